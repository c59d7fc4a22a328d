import type { Config } from './config-types.js';
import { RESERVED_TABLES, TABLE_BASE } from './constants.js';
import { configError } from './errors.js';
import { resolveHealth, type HealthModel } from './health.js';

export type Snat = { kind: 'address'; address: string } | { kind: 'masquerade' } | { kind: 'none' };

/** A link with every default resolved. */
export interface LinkModel {
  name: string;
  interface: string;
  gateway?: string;
  weight: number;
  snat: Snat;
  mark: number;
  table: number;
  /** Tier: 0 is the best; higher tiers take new connections only when every better link is down. */
  priority: number;
  health: HealthModel;
}

export interface Model {
  lan: string[];
  links: LinkModel[];
  strategy: { name: string; options: Record<string, unknown> };
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

/**
 * Marks: explicit ones first, then each link's previous mark when still free, then the lowest
 * free mark from 1. So adding, removing, renaming or reordering links never moves a mark of a
 * link that stays. Tables default to TABLE_BASE + mark.
 */
export function allocateMarks(config: Config, previous: Readonly<Record<string, number>> = {}): number[] {
  const marks: (number | undefined)[] = config.links.map((l) => l.mark);
  const used = new Set(marks.filter((m): m is number => m !== undefined));
  config.links.forEach((link, i) => {
    const old = previous[link.name];
    if (marks[i] === undefined && Number.isInteger(old) && old > 0 && !used.has(old)) {
      marks[i] = old;
      used.add(old);
    }
  });
  let next = 1;
  return marks.map((mark) => {
    if (mark !== undefined) return mark;
    while (used.has(next)) next++;
    used.add(next);
    return next;
  });
}

function snatOf(value: string | undefined): Snat {
  if (value === undefined || value === 'masquerade') return { kind: 'masquerade' };
  if (value === 'none') return { kind: 'none' };
  return { kind: 'address', address: value };
}

export function buildModel(config: Config, options: ModelOptions = {}): Model {
  const marks = allocateMarks(config, options.previousMarks);
  const tables = new Map<number, number>();
  const problems: string[] = [];
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
      mark: marks[i],
      table,
      priority: link.priority ?? 0,
      health: resolveHealth(config.health, link.health),
    };
  });
  if (problems.length) throw configError(problems);
  return { lan: [...config.lan], links, strategy: strategyOf(config, options.strategy) };
}
