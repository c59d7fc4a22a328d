import type { HealthConfig } from './config-types.js';

/** Health check settings of one link, defaults filled in. */
export interface HealthModel {
  enabled: boolean;
  targets: string[];
  method: 'icmp' | 'tcp';
  port?: number;
  /** Seconds. */
  interval: number;
  /** Seconds. */
  timeout: number;
  down: number;
  up: number;
  /** Milliseconds. */
  maxRtt?: number;
  /** Percent of the last LOSS_WINDOW probes. */
  maxLoss?: number;
  flushConnections: boolean;
  hook?: string;
}

/**
 * Defaults chosen so that a dead link is out of the map within 2 s: probes every 0.5 s, each
 * failing after 0.3 s, down after 3 in a row → detected at most 0.5 + 2 × 0.5 + 0.3 = 1.8 s after
 * it died; the atomic re-apply that follows takes about 0.1 s on an idle router.
 */
export const HEALTH_DEFAULTS = Object.freeze({
  method: 'icmp' as const,
  interval: 0.5,
  timeout: 0.3,
  down: 3,
  up: 3,
  flushConnections: true,
});

export const LOSS_WINDOW = 20;

/** Per-link settings over global ones over defaults. A link without targets is not checked. */
export function resolveHealth(global: HealthConfig | undefined, link: HealthConfig | undefined): HealthModel {
  const merged = { ...HEALTH_DEFAULTS, ...(global ?? {}), ...(link ?? {}) };
  const targets = merged.targets ?? [];
  return {
    ...merged,
    targets: [...targets],
    enabled: (merged.enabled ?? true) && targets.length > 0,
  };
}

export type LinkState = 'up' | 'down';

/**
 * Links that take new connections: the healthy links of the best tier (lowest priority number)
 * that has any. When no link is healthy, `undefined`: keep the links in use rather than an empty
 * map that would drop every new connection.
 */
export function activeLinks(
  links: readonly { name: string; priority: number }[],
  state: Readonly<Record<string, LinkState>>,
): string[] | undefined {
  const healthy = links.filter((l) => (state[l.name] ?? 'up') === 'up');
  if (!healthy.length) return undefined;
  const best = Math.min(...healthy.map((l) => l.priority));
  return healthy.filter((l) => l.priority === best).map((l) => l.name);
}

/**
 * A link's IPv6 side judged by its own (IPv6) targets is a health unit of its own, named
 * `<link>:ipv6` in active sets (a link name never holds a colon). A link without IPv6 targets has
 * one unit for both families.
 */
export const IPV6_UNIT_SUFFIX = ':ipv6';
export const ipv6Unit = (link: string): string => `${link}${IPV6_UNIT_SUFFIX}`;

/**
 * An active set as health gives it, per family: names with the suffix are the links that take new
 * IPv6 connections. Without any, IPv6 follows the IPv4 set (`active6` undefined).
 */
export function splitActive(active: readonly string[]): { active: string[]; active6?: string[] } {
  const six = active.filter((name) => name.endsWith(IPV6_UNIT_SUFFIX));
  const four = active.filter((name) => !name.endsWith(IPV6_UNIT_SUFFIX));
  return six.length ? { active: four, active6: six.map((name) => name.slice(0, -IPV6_UNIT_SUFFIX.length)) } : { active: four };
}
