import { MWAN_PROTO, RULE_PREF_FWMARK, RULE_PREF_SUPPRESS } from './constants.js';
import type { Model } from './model.js';
import { hex } from './nft-builder.js';

/** A default route in a link's own table. */
export interface RouteSpec {
  /** `inet6`: the IPv6 default route (`ip -6 route`); absent: IPv4. */
  family?: 'inet6';
  table: number;
  dev: string;
  /** Absent for point-to-point links: `default dev ppp0`. */
  gateway?: string;
}

export interface RuleSpec {
  /** `inet6`: an IPv6 rule (`ip -6 rule`); absent: IPv4. */
  family?: 'inet6';
  pref: number;
  table: number | 'main';
  iif?: string;
  fwmark?: number;
  /** With `fwmark`: only these bits are compared (`fwmark 0x1/0xff`). */
  fwmask?: number;
  suppressPrefixlength?: number;
}

export interface SysctlSpec {
  /** Path under /proc/sys, `/`-separated (interface names may contain dots). */
  path: string;
  value: string;
  /** Only change it when it currently has this value (the least relaxation that works). */
  onlyIf?: string;
  /**
   * Only change it when the larger of its value and this other parameter's is `onlyIfMax.value`:
   * the kernel applies max(conf/all/rp_filter, conf/IFACE/rp_filter).
   */
  onlyIfMax?: { path: string; value: string };
  why: string;
}

/** Each link's table gets its default route in each family the link carries (the kernel keeps a table per family). */
export function renderRoutes(model: Model): RouteSpec[] {
  return [
    ...model.links.map((link) => ({
      table: link.table,
      dev: link.interface,
      ...(link.gateway !== undefined ? { gateway: link.gateway } : {}),
    })),
    ...model.links.flatMap((link) => (link.ipv6 ? [{
      family: 'inet6' as const,
      table: link.table,
      dev: link.interface,
      ...(link.ipv6.gateway !== undefined ? { gateway: link.ipv6.gateway } : {}),
    }] : [])),
  ];
}

/**
 * Ahead of the fwmark rules, LAN traffic and the router's own (`iif lo` matches locally generated
 * packets) look up the main table without its default route (`suppress_prefixlength 0`):
 * connected subnets, VPNs and other specific routes keep their way, and only what would take the
 * default route follows its mark. The fwmark rules compare only the bits of the mark mask.
 */
export function renderRules(model: Model): RuleSpec[] {
  const links6 = model.links.filter((l) => l.ipv6);
  const rules = (links: typeof model.links, family: { family?: 'inet6' }): RuleSpec[] => [
    ...[...model.lan, 'lo'].map((iif) => ({ ...family, pref: RULE_PREF_SUPPRESS, iif, table: 'main' as const, suppressPrefixlength: 0 })),
    ...links.map((link) => ({ ...family, pref: RULE_PREF_FWMARK, fwmark: link.mark, fwmask: model.markMask, table: link.table })),
  ];
  return [...rules(model.links, {}), ...(links6.length ? rules(links6, { family: 'inet6' }) : [])];
}

/**
 * Forwarding on. Replies come back on the link they left by, but the main table's default route
 * may point elsewhere, so strict reverse-path filtering would drop them. The kernel filters by
 * max(conf/all/rp_filter, conf/IFACE/rp_filter): when that is 1 (strict), the interface is set to
 * 2 (loose), which makes the maximum 2 whatever `all` is (0 or 1) and still drops sources that
 * have no route at all. `all` and everything already loose or off are left alone.
 */
export function renderSysctls(model: Model): SysctlSpec[] {
  return [
    { path: 'net/ipv4/ip_forward', value: '1', why: 'route between LAN and links' },
    ...model.links.map((link) => ({
      path: `net/ipv4/conf/${link.interface}/rp_filter`,
      value: '2',
      onlyIfMax: { path: RP_FILTER_ALL, value: '1' },
      why: `replies on ${link.interface} would fail strict reverse-path filtering`,
    })),
    ...(model.links.some((l) => l.ipv6) ? [{ path: 'net/ipv6/conf/all/forwarding', value: '1', why: 'route IPv6 between LAN and links' }] : []),
    // A router (forwarding on) ignores router advertisements unless accept_ra is 2, and a learned
    // IPv6 gateway is the default route an RA installs.
    ...model.links.filter((l) => model.learnsGateway6?.includes(l.name)).map((link) => ({
      path: `net/ipv6/conf/${link.interface}/accept_ra`,
      value: '2',
      onlyIf: '1',
      why: `the IPv6 gateway of ${link.interface} is learned from router advertisements, which forwarding would ignore`,
    })),
  ];
}

export const RP_FILTER_ALL = 'net/ipv4/conf/all/rp_filter';

export function routeArgs(verb: 'replace' | 'del', route: RouteSpec): string[] {
  if (route.gateway === 'auto') throw new RangeError(`the gateway of table ${route.table} was not learned`);
  return [
    ...(route.family === 'inet6' ? ['-6'] : []),
    'route', verb, 'default',
    ...(route.gateway !== undefined ? ['via', route.gateway] : []),
    'dev', route.dev, 'table', String(route.table), 'proto', String(MWAN_PROTO),
  ];
}

export function ruleArgs(verb: 'add' | 'del', rule: RuleSpec): string[] {
  return [
    ...(rule.family === 'inet6' ? ['-6'] : []),
    'rule', verb, 'pref', String(rule.pref),
    ...(rule.iif !== undefined ? ['iif', rule.iif] : []),
    ...(rule.fwmark !== undefined ? ['fwmark', rule.fwmask !== undefined && rule.fwmask !== 0xffffffff ? `${hex(rule.fwmark)}/${hex(rule.fwmask)}` : hex(rule.fwmark)] : []),
    'lookup', String(rule.table),
    ...(rule.suppressPrefixlength !== undefined ? ['suppress_prefixlength', String(rule.suppressPrefixlength)] : []),
    'proto', String(MWAN_PROTO),
  ];
}

/** `net/ipv4/conf/eth0.10/rp_filter` → `net.ipv4.conf.eth0/10.rp_filter`, as sysctl(8) spells it. */
export function sysctlName(path: string): string {
  return path.split('/').map((part) => part.replace(/\./g, '/')).join('.');
}
