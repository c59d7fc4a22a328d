/**
 * Whether a link can carry traffic now, from what the kernel says about its interface. A router's
 * links come and go (PPPoE reconnects, DHCP leases, USB modems): a link that cannot carry traffic
 * is *down* with a reason a person can read, never an error that stops the other links.
 */

import type { LinkModel, Model } from './model.js';

/** What the kernel says about one interface (read by @mwan/iproute2's `IpRoute2.interfaces`). */
export interface InterfaceFacts {
  name: string;
  /** `ip link set up` (flag UP). */
  adminUp: boolean;
  /** The lower layer is up (LOWER_UP, not NO-CARRIER). */
  carrier: boolean;
  /** Its IPv4 addresses. */
  addresses: string[];
  /** The far end of a point-to-point IPv4 address (`peer`), or undefined. */
  peer?: string;
  pointToPoint: boolean;
  /** Next hops of the main table's IPv4 default routes through it, lowest metric first (DHCP, PPP). */
  gateways: string[];
  /** Its global IPv6 addresses (not link-local, not tentative). */
  addresses6?: string[];
  /** Next hops of the main table's IPv6 default routes through it (RA, DHCPv6), lowest metric first. */
  gateways6?: string[];
}

export const LINK_DOWN_REASONS = ['absent', 'admin-down', 'no-carrier', 'no-address', 'no-gateway', 'snat-address-missing'] as const;
export type LinkDownReason = (typeof LINK_DOWN_REASONS)[number];

/** What a link needs from its interface: its config's interface, gateway and static SNAT address. */
export interface LinkNeeds {
  name: string;
  interface: string;
  /** An address, `auto` (learned from the main table or the peer), or undefined (`default dev IF`). */
  gateway?: string;
  /** A static SNAT address, which must be one of the interface's addresses. */
  snatAddress?: string;
}

export type LinkCondition =
  | { up: true; /** The next hop to route by; undefined: `default dev IF`. */ gateway?: string }
  | { up: false; reason: LinkDownReason; /** One line for people: what is missing. */ detail: string };

export function linkCondition(link: LinkNeeds, facts: InterfaceFacts | undefined): LinkCondition {
  const down = (reason: LinkDownReason, detail: string): LinkCondition => ({ up: false, reason, detail });
  const dev = `interface ${link.interface}`;
  if (!facts) return down('absent', `${dev} does not exist`);
  if (!facts.adminUp) return down('admin-down', `${dev} is administratively down`);
  if (!facts.carrier) return down('no-carrier', `${dev} has no carrier`);
  if (!facts.addresses.length) return down('no-address', `${dev} has no IPv4 address`);
  if (link.snatAddress !== undefined && !facts.addresses.includes(link.snatAddress)) {
    return down('snat-address-missing', `snat address ${link.snatAddress} is not on ${dev} (it has ${facts.addresses.join(', ')})`);
  }
  if (link.gateway === undefined) return { up: true };
  // A static next hop is the kernel's to judge (a route to it may come from anywhere): a gateway
  // it refuses fails the apply's route step, which puts everything back.
  if (link.gateway !== 'auto') return { up: true, gateway: link.gateway };
  // A DHCP client or PPP daemon installs the link's default route in the main table; a
  // point-to-point link needs no next hop at all.
  if (facts.gateways.length) return { up: true, gateway: facts.gateways[0] };
  if (facts.pointToPoint || facts.peer !== undefined) return { up: true };
  return down('no-gateway', `${dev} has no default route in the main table to learn the gateway from`);
}

/**
 * Whether the link's IPv6 side can carry traffic: a learned gateway needs the RA or DHCPv6 default
 * route, masquerading needs a global address, a static source must be on the interface. The
 * interface itself was already judged by `linkCondition`.
 */
export function ipv6Condition(link: LinkModel, facts: InterfaceFacts): LinkCondition {
  const down = (reason: LinkDownReason, detail: string): LinkCondition => ({ up: false, reason, detail });
  const six = link.ipv6;
  const dev = `interface ${link.interface}`;
  const addresses = facts.addresses6 ?? [];
  if (!six) return down('no-address', `link ${link.name} has no "ipv6"`);
  if (six.snat.kind === 'masquerade' && !addresses.length) return down('no-address', `${dev} has no global IPv6 address to masquerade to`);
  if (six.snat.kind === 'address' && !addresses.includes(six.snat.address)) {
    return down('snat-address-missing', `snat address ${six.snat.address} is not on ${dev} (it has ${addresses.join(', ') || 'no global IPv6 address'})`);
  }
  if (six.gateway !== 'auto') return six.gateway === undefined ? { up: true } : { up: true, gateway: six.gateway };
  const learned = facts.gateways6 ?? [];
  if (learned.length) return { up: true, gateway: learned[0] };
  if (facts.pointToPoint) return { up: true };
  return down('no-gateway', `${dev} has no IPv6 default route in the main table (router advertisement or DHCPv6) to learn the gateway from`);
}

export const needsOf = (link: LinkModel): LinkNeeds => ({
  name: link.name,
  interface: link.interface,
  ...(link.gateway !== undefined ? { gateway: link.gateway } : {}),
  ...(link.snat.kind === 'address' ? { snatAddress: link.snat.address } : {}),
});

/** A link left out of an apply, and why. */
export interface DownLink {
  link: LinkModel;
  reason: LinkDownReason;
  detail: string;
}

/**
 * The model the kernel gets now: the links that can carry traffic, each with its next hop
 * (learned ones filled in), and the others with their reasons. Marks and tables stay as the
 * whole config gave them, so a link that comes back takes up its mark again.
 */
export function usableLinks(model: Model, interfaces: ReadonlyMap<string, InterfaceFacts>): { model: Model; down: DownLink[]; down6: DownLink[] } {
  const up: LinkModel[] = [];
  const down: DownLink[] = [];
  // Links up for IPv4 whose IPv6 side cannot carry traffic: they carry IPv4 only for now.
  const down6: DownLink[] = [];
  for (const link of model.links) {
    const facts = interfaces.get(link.interface);
    const condition = linkCondition(needsOf(link), facts);
    if (!condition.up) {
      down.push({ link, reason: condition.reason, detail: condition.detail });
      continue;
    }
    const { gateway: _configured, ipv6, ...rest } = link;
    const usable: LinkModel = condition.gateway === undefined ? rest : { ...rest, gateway: condition.gateway };
    if (ipv6 && facts) {
      const condition6 = ipv6Condition(link, facts);
      if (!condition6.up) down6.push({ link, reason: condition6.reason, detail: condition6.detail });
      else {
        const { gateway: _learned, ...rest6 } = ipv6;
        usable.ipv6 = condition6.gateway === undefined ? rest6 : { ...rest6, gateway: condition6.gateway };
      }
    }
    up.push(usable);
  }
  return { model: { ...model, links: up }, down, down6 };
}
