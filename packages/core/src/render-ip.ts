import { MWAN_PROTO, RULE_PREF_FWMARK, RULE_PREF_SUPPRESS } from './constants.js';
import type { Model } from './model.js';
import { hex } from './nft-builder.js';

/** A default route in a link's own table. */
export interface RouteSpec {
  table: number;
  dev: string;
  /** Absent for point-to-point links: `default dev ppp0`. */
  gateway?: string;
}

export interface RuleSpec {
  pref: number;
  table: number | 'main';
  iif?: string;
  fwmark?: number;
  suppressPrefixlength?: number;
}

export interface SysctlSpec {
  /** Path under /proc/sys, `/`-separated (interface names may contain dots). */
  path: string;
  value: string;
  /** Only change it when it currently has this value (the least relaxation that works). */
  onlyIf?: string;
  why: string;
}

export function renderRoutes(model: Model): RouteSpec[] {
  return model.links.map((link) => ({
    table: link.table,
    dev: link.interface,
    ...(link.gateway !== undefined ? { gateway: link.gateway } : {}),
  }));
}

/**
 * Ahead of the fwmark rules, LAN traffic looks up the main table without its default route
 * (`suppress_prefixlength 0`): connected subnets, VPNs and other specific routes keep their way,
 * and only what would take the default route is balanced.
 */
export function renderRules(model: Model): RuleSpec[] {
  return [
    ...model.lan.map((iif) => ({ pref: RULE_PREF_SUPPRESS, iif, table: 'main' as const, suppressPrefixlength: 0 })),
    ...model.links.map((link) => ({ pref: RULE_PREF_FWMARK, fwmark: link.mark, table: link.table })),
  ];
}

/**
 * Forwarding on. Replies come back on the link they left by, but the main table's default route
 * may point elsewhere, so strict reverse-path filtering (1) would drop them: a link interface in
 * strict mode is put in loose mode (2), which still drops sources that have no route at all.
 * Nothing else is relaxed.
 */
export function renderSysctls(model: Model): SysctlSpec[] {
  return [
    { path: 'net/ipv4/ip_forward', value: '1', why: 'route between LAN and links' },
    ...model.links.map((link) => ({
      path: `net/ipv4/conf/${link.interface}/rp_filter`,
      value: '2',
      onlyIf: '1',
      why: `replies on ${link.interface} would fail strict reverse-path filtering`,
    })),
  ];
}

export function routeArgs(verb: 'replace' | 'del', route: RouteSpec): string[] {
  if (route.gateway === 'auto') throw new RangeError(`the gateway of table ${route.table} was not learned`);
  return [
    'route', verb, 'default',
    ...(route.gateway !== undefined ? ['via', route.gateway] : []),
    'dev', route.dev, 'table', String(route.table), 'proto', String(MWAN_PROTO),
  ];
}

export function ruleArgs(verb: 'add' | 'del', rule: RuleSpec): string[] {
  return [
    'rule', verb, 'pref', String(rule.pref),
    ...(rule.iif !== undefined ? ['iif', rule.iif] : []),
    ...(rule.fwmark !== undefined ? ['fwmark', hex(rule.fwmark)] : []),
    'lookup', String(rule.table),
    ...(rule.suppressPrefixlength !== undefined ? ['suppress_prefixlength', String(rule.suppressPrefixlength)] : []),
    'proto', String(MWAN_PROTO),
  ];
}

/** `net/ipv4/conf/eth0.10/rp_filter` → `net.ipv4.conf.eth0/10.rp_filter`, as sysctl(8) spells it. */
export function sysctlName(path: string): string {
  return path.split('/').map((part) => part.replace(/\./g, '/')).join('.');
}
