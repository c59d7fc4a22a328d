import type { Config, LinkConfig, LinkIpv6Config, RouterTraffic } from './config-types.js';
import { DEFAULT_MARK_MASK, RESERVED_TABLES, TABLE_BASE } from './constants.js';
import { configError } from './errors.js';
import { resolveHealth, type HealthModel } from './health.js';
import { hex } from './nft-builder.js';
import { ruleModels, type RuleModel } from './rules.js';

export type Snat = { kind: 'address'; address: string } | { kind: 'masquerade' } | { kind: 'none' };
/** IPv6 source translation; `prefix`: NPTv6 of the LAN's prefix `from` into `to`, of the same length. */
export type Snat6 = Snat | { kind: 'prefix'; from: string; to: string };

/** The IPv6 side of a link. */
export interface LinkIpv6Model {
  /** An address, `auto` (learned at apply), or undefined (`default dev IF`). */
  gateway?: string;
  snat: Snat6;
  /** Prefixes the ISP routes to the router: their connections always take this link, untranslated. */
  routed: string[];
}

/** A link with every default resolved. */
export interface LinkModel {
  name: string;
  interface: string;
  gateway?: string;
  weight: number;
  snat: Snat;
  /** Present when the link carries IPv6 too. */
  ipv6?: LinkIpv6Model;
  mark: number;
  table: number;
  /** Tier: 0 is the best; higher tiers take new connections only when every better link is down. */
  priority: number;
  health: HealthModel;
}

export interface Model {
  lan: string[];
  /** The LAN's IPv6 prefix (what NPTv6 translates). */
  lan6?: string;
  links: LinkModel[];
  /**
   * Links whose IPv6 gateway the config says to learn (`auto`): their interfaces must accept router
   * advertisements, also while none has come yet and their IPv6 side is left out.
   */
  learnsGateway6?: string[];
  /**
   * Every link of the config (name, weight, tier, whether it carries IPv6), also those left out
   * later because their interface cannot carry traffic: hashing spreads its buckets over all of
   * them, so a link that is left out moves only its own clients. Absent: the same as `links`.
   */
  configuredLinks?: { name: string; weight: number; priority: number; ipv6: boolean }[];
  strategy: { name: string; options: Record<string, unknown> };
  /** The only bits of the packet mark and ct mark mwan reads or writes; every link mark fits in it. */
  markMask: number;
  /** New connections arriving on a link take its mark, so their replies leave by it. */
  inbound: boolean;
  routerTraffic: RouterTraffic;
  /** Policy rules in config order (absent or empty: none). */
  rules?: RuleModel[];
}

export const DEFAULT_STRATEGY = 'weighted';

export interface ModelOptions {
  /** `--strategy NAME`: replaces the config's strategy; the config's options go with its own name only. */
  strategy?: string;
  /** Marks given to links by the previous apply, by link name: a link that stays keeps its mark. */
  previousMarks?: Readonly<Record<string, number>>;
}

function strategyOf(config: Config, override?: string): Model['strategy'] {
  const configured = typeof config.strategy === 'string' ? { name: config.strategy, options: {} } : config.strategy;
  const name = override ?? configured?.name ?? DEFAULT_STRATEGY;
  const options = configured && configured.name === name ? { ...(configured.options ?? {}) } : {};
  return { name, options };
}

/** Whether a mark uses only bits of the mask (and is not 0, which means "no link"). */
export const fitsMask = (mark: number, mask: number): boolean => mark > 0 && (mark & ~mask) >>> 0 === 0 && mark <= 0xffffffff;

/** The n-th value (n ≥ 1) that uses only the bits of `mask`: n's bits deposited into the mask's bits, lowest first. */
export function nthMaskValue(n: number, mask: number): number | undefined {
  let value = 0;
  let rest = n;
  for (let bit = 0; bit < 32 && rest > 0; bit++) {
    const place = 2 ** bit;
    if (Math.floor(mask / place) % 2 === 0) continue;
    if (rest % 2 === 1) value += place;
    rest = Math.floor(rest / 2);
  }
  return rest > 0 ? undefined : value;
}

/**
 * Marks: explicit ones first, then each link's previous mark when still free and inside the mask,
 * then the lowest free value inside the mask (1, 2, 3 ... with the default mask). So adding,
 * removing, renaming or reordering links never moves a mark of a link that stays. Tables default
 * to TABLE_BASE + mark. A link left without a mark (the mask has too few values) gets undefined.
 */
export function allocateMarks(config: Config, previous: Readonly<Record<string, number | undefined>> = {}): (number | undefined)[] {
  const mask = config.markMask ?? DEFAULT_MARK_MASK;
  const marks: (number | undefined)[] = config.links.map((l) => l.mark);
  const used = new Set(marks.filter((m): m is number => m !== undefined));
  config.links.forEach((link, i) => {
    const old = previous[link.name];
    if (marks[i] === undefined && old !== undefined && Number.isInteger(old) && fitsMask(old, mask) && !used.has(old)) {
      marks[i] = old;
      used.add(old);
    }
  });
  let n = 1;
  return marks.map((mark) => {
    if (mark !== undefined) return mark;
    let next = nthMaskValue(n, mask);
    while (next !== undefined && used.has(next)) next = nthMaskValue(++n, mask);
    if (next === undefined) return undefined;
    used.add(next);
    return next;
  });
}

function snatOf(value: string | undefined): Snat {
  if (value === undefined || value === 'masquerade') return { kind: 'masquerade' };
  if (value === 'none') return { kind: 'none' };
  return { kind: 'address', address: value };
}

function ipv6Of(link: LinkIpv6Config | undefined, lan6: string | undefined): LinkIpv6Model | undefined {
  if (link === undefined) return undefined;
  const snat = link.snat?.includes('/') && lan6 !== undefined ? { kind: 'prefix' as const, from: lan6, to: link.snat } : snatOf(link.snat);
  return { ...(link.gateway !== undefined ? { gateway: link.gateway } : {}), snat, routed: [...(link.routed ?? [])] };
}

/** A link that carries no IPv6 is not judged by IPv6 targets (the global ones may list some). */
function healthOf(config: Config, link: LinkConfig): HealthModel {
  const health = resolveHealth(config.health, link.health);
  if (link.ipv6 !== undefined) return health;
  const targets = health.targets.filter((t) => !t.includes(':'));
  return { ...health, targets, enabled: health.enabled && targets.length > 0 };
}

export function buildModel(config: Config, options: ModelOptions = {}): Model {
  const markMask = config.markMask ?? DEFAULT_MARK_MASK;
  const allocated = allocateMarks(config, options.previousMarks);
  const tables = new Map<number, number>();
  const problems: string[] = [];
  allocated.forEach((mark, i) => {
    if (mark === undefined) problems.push(`links[${i}]: no mark left inside markMask ${hex(markMask)}; widen markMask or give "mark"`);
  });
  if (problems.length) throw configError(problems);
  const marks = allocated as number[];
  const links = config.links.map((link, i): LinkModel => {
    const table = link.table ?? TABLE_BASE + marks[i];
    const owner = tables.get(table);
    if (owner !== undefined) {
      problems.push(`links[${i}].table: ${table}${link.table === undefined ? ` (${TABLE_BASE} + mark ${marks[i]})` : ''} is already used by links[${owner}]`);
    } else if (RESERVED_TABLES.has(table) || table > 0xffffffff) {
      problems.push(`links[${i}].table: ${table} is reserved or out of range; set "table"`);
    }
    tables.set(table, i);
    return {
      name: link.name,
      interface: link.interface,
      ...(link.gateway !== undefined ? { gateway: link.gateway } : {}),
      weight: link.weight ?? 1,
      snat: snatOf(link.snat),
      ...(link.ipv6 !== undefined ? { ipv6: ipv6Of(link.ipv6, config.lan6) } : {}),
      mark: marks[i],
      table,
      priority: link.priority ?? 0,
      health: healthOf(config, link),
    };
  });
  if (problems.length) throw configError(problems);
  return {
    lan: [...config.lan],
    ...(config.lan6 !== undefined ? { lan6: config.lan6 } : {}),
    links,
    ...(config.links.some((l) => l.ipv6?.gateway === 'auto') ? { learnsGateway6: config.links.filter((l) => l.ipv6?.gateway === 'auto').map((l) => l.name) } : {}),
    configuredLinks: links.map(({ name, weight, priority, ipv6 }) => ({ name, weight, priority, ipv6: ipv6 !== undefined })),
    strategy: strategyOf(config, options.strategy),
    markMask,
    inbound: config.inbound ?? true,
    routerTraffic: config.routerTraffic ?? 'failover',
    rules: ruleModels(config),
  };
}
