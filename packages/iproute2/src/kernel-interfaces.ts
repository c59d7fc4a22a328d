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
 * What mwan needs to know of each interface, from `ip -json addr show` and the main table's IPv4
 * default routes (`ip -json -4 route show table main default`), by interface name.
 */
export function interfaceFacts(interfaces: readonly KernelInterface[], defaults: readonly KernelRoute[]): Map<string, InterfaceFacts> {
  const gateways = new Map<string, { gateway: string; metric: number }[]>();
  for (const route of defaults) {
    if (route.dst !== 'default' || !route.dev || !route.gateway) continue;
    const list = gateways.get(route.dev) ?? [];
    list.push({ gateway: route.gateway, metric: route.metric ?? 0 });
    gateways.set(route.dev, list);
  }
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
      gateways: (gateways.get(iface.ifname) ?? []).sort((a, b) => a.metric - b.metric).map((g) => g.gateway),
    });
  }
  return facts;
}
