import type { InterfaceFacts } from '@mwan/core';
import type { KernelRoute } from './kernel-routes.js';

/** One entry of `ip -json addr show`: the link's flags and its addresses. */
export interface KernelInterface {
  ifname: string;
  flags?: string[];
  operstate?: string;
  addr_info?: { family?: string; local?: string; address?: string; prefixlen?: number; [field: string]: unknown }[];
  [field: string]: unknown;
}

/**
 * What mwan needs to know of each interface, from `ip -json addr show` and the main table's
 * default routes (`ip -4|-6 -json route show table main default`), by interface name. `ip -N`
 * prints an address's scope as a number: global is 0.
 */
export function interfaceFacts(
  interfaces: readonly KernelInterface[],
  defaults: readonly KernelRoute[],
  defaults6: readonly KernelRoute[] = [],
): Map<string, InterfaceFacts> {
  const gateways = nextHopsByDevice(defaults);
  const gateways6 = nextHopsByDevice(defaults6);
  const facts = new Map<string, InterfaceFacts>();
  for (const iface of interfaces) {
    const flags = new Set(iface.flags ?? []);
    const ipv4 = (iface.addr_info ?? []).filter((a) => a.family === 'inet' && typeof a.local === 'string');
    const peer = ipv4.find((a) => a.address !== undefined && a.address !== a.local)?.address;
    facts.set(iface.ifname, {
      name: iface.ifname,
      adminUp: flags.has('UP'),
      carrier: flags.has('LOWER_UP') && !flags.has('NO-CARRIER'),
      addresses: ipv4.map((a) => a.local as string),
      ...(peer !== undefined ? { peer } : {}),
      pointToPoint: flags.has('POINTOPOINT'),
      gateways: gateways.get(iface.ifname) ?? [],
      // A tentative address (DAD not done) cannot be a source yet; link-local ones never can.
      addresses6: (iface.addr_info ?? [])
        .filter((a) => a.family === 'inet6' && typeof a.local === 'string' && (a.scope === 'global' || a.scope === '0') && a.tentative !== true && a.dadfailed !== true)
        .map((a) => a.local as string),
      gateways6: gateways6.get(iface.ifname) ?? [],
    });
  }
  return facts;
}

/** The main table's default routes' next hops by device, lowest metric first. */
function nextHopsByDevice(defaults: readonly KernelRoute[]): Map<string, string[]> {
  const byDevice = new Map<string, { gateway: string; metric: number }[]>();
  for (const route of defaults) {
    if (route.dst !== 'default' || !route.dev || !route.gateway) continue;
    const list = byDevice.get(route.dev) ?? [];
    list.push({ gateway: route.gateway, metric: route.metric ?? 0 });
    byDevice.set(route.dev, list);
  }
  return new Map([...byDevice].map(([dev, list]) => [dev, list.sort((a, b) => a.metric - b.metric).map((g) => g.gateway)]));
}
