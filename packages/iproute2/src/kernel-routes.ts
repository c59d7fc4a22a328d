import { routeArgs, type RouteSpec } from '@mwan/core';

/** One entry of `ip -N -json route show table all`. */
export interface KernelRoute {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string;
  protocol?: string;
  metric?: number;
  scope?: string;
  prefsrc?: string;
  /** Set by the reader for IPv6 routes (`ip -6 route show`). */
  family?: 'inet6';
  [field: string]: unknown;
}

/**
 * `slot` is what `ip route replace` overwrites (family, table, destination, metric); `key` adds
 * what the route does, so an identical route is left alone and a changed one is replaced.
 */
export interface RouteEntry {
  slot: string;
  key: string;
  table: string;
  replace: string[];
  del: string[];
}

// `ip -N` prints route types as numbers; `ip route` accepts their names.
const ROUTE_TYPES: Readonly<Record<string, string>> = {
  1: 'unicast', 2: 'local', 3: 'broadcast', 4: 'anycast', 5: 'multicast', 6: 'blackhole', 7: 'unreachable', 8: 'prohibit', 9: 'throw', 10: 'nat',
};

export function routeTable(route: Pick<KernelRoute, 'table'>): string {
  return route.table === undefined || route.table === 'main' ? '254' : route.table;
}

const typeName = (type: string | undefined) => (type === undefined ? 'unicast' : ROUTE_TYPES[type] ?? type);

function entry(parts: { family: string; type: string; dst: string; gateway?: string; dev?: string; table: string; metric?: number }, replace: string[], del: string[]): RouteEntry {
  const slot = `${parts.family} table ${parts.table} ${parts.dst} metric ${parts.metric ?? 0}`;
  return {
    slot,
    key: `${slot} ${parts.type}${parts.gateway ? ` via ${parts.gateway}` : ''}${parts.dev ? ` dev ${parts.dev}` : ''}`,
    table: parts.table,
    replace,
    del,
  };
}

/** The metric the kernel gives an IPv6 route added without one (IPv4 routes get 0). */
export const IPV6_DEFAULT_METRIC = 1024;

export function routeEntryFromSpec(spec: RouteSpec): RouteEntry {
  const metric = spec.family === 'inet6' ? IPV6_DEFAULT_METRIC : undefined;
  return entry(
    { family: spec.family ?? 'inet', type: 'unicast', dst: 'default', gateway: spec.gateway, dev: spec.dev, table: String(spec.table), metric },
    routeArgs('replace', spec),
    routeArgs('del', spec),
  );
}

/** The arguments that put this very route back, or remove it. */
export function routeEntryFromKernel(route: KernelRoute): RouteEntry {
  const inet6 = route.family === 'inet6' || route.dst.includes(':') || (route.gateway ?? '').includes(':');
  const type = typeName(route.type);
  const table = routeTable(route);
  const body = (verb: string) => [
    ...(inet6 ? ['-6'] : []),
    'route', verb,
    ...(type !== 'unicast' ? [type] : []),
    route.dst,
    ...(route.gateway ? ['via', route.gateway] : []),
    ...(route.dev ? ['dev', route.dev] : []),
    'table', table,
    ...(route.protocol !== undefined ? ['proto', route.protocol] : []),
    ...(route.metric ? ['metric', String(route.metric)] : []),
  ];
  return entry({ family: inet6 ? 'inet6' : 'inet', type, dst: route.dst, gateway: route.gateway, dev: route.dev, table, metric: route.metric }, body('replace'), body('del'));
}
