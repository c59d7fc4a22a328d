import { hashBuckets, type BucketLink } from './hash-buckets.js';
import { smoothIntervals, weightIntervals, type Interval } from './weights.js';

/**
 * The only way a strategy produces nft text. Every value is range-checked and every identifier
 * comes from a closed list, so a strategy cannot inject a statement; objects not made here are
 * refused by the renderer.
 */
export interface StrategyLink {
  readonly name: string;
  readonly mark: number;
  readonly weight: number;
  readonly interface: string;
  /** The family of the connections this choice is for: a strategy runs once per family. */
  readonly family: Family;
}

export type Family = 'ipv4' | 'ipv6';

/** A number expression in 0..modulus-1, e.g. `numgen inc mod 4`. */
export interface KeyExpr {
  readonly text: string;
  readonly modulus: number;
}

/**
 * What picks the link of a new connection. `value`: an expression that yields a mark
 * (`numgen inc mod 2 map { 0 : 0x1, 1 : 0x2 }`), rendered as `meta mark set <text>`.
 * `verdict`: a verdict map that jumps to the per-link chain `pick_<name>`, which sets the mark
 * (`numgen inc mod 2 vmap { 0 : jump pick_isp1, 1 : jump pick_isp2 }`). Either way the renderer
 * writes the same choice as a verdict map into the per-link chains (see `selectorVerdict`), which
 * set only the masked bits of the packet and ct marks.
 */
export interface Selector {
  readonly kind: 'value' | 'verdict';
  readonly text: string;
  /** Marks it can yield. */
  readonly marks: readonly number[];
}

export interface MapEntry {
  from: number;
  /** Inclusive; defaults to `from`. */
  to?: number;
  link: StrategyLink | string;
}

/**
 * Fields a hash may cover: the addresses, transport ports and protocol. `ip saddr` and `ip daddr`
 * name the connection's addresses; for IPv6 connections they hash the IPv6 ones (`ip6 saddr`).
 */
export const HASH_FIELDS = ['ip saddr', 'ip daddr', 'th sport', 'th dport', 'meta l4proto'] as const;
export type HashField = (typeof HASH_FIELDS)[number];

export const MAX_MODULUS = 1 << 20;

export interface SelectorBuilder {
  /** `numgen inc|random mod N`. */
  numgen(mode: 'inc' | 'random', modulus: number): KeyExpr;
  /** `jhash <fields> mod N seed S` (seed 0 when not given: a fixed hash across reloads). */
  jhash(fields: readonly HashField[], modulus: number, seed?: number): KeyExpr;
  /** `<key> map { from-to : mark, ... }`: the entries must cover 0..modulus-1 exactly once. */
  map(key: KeyExpr, entries: readonly MapEntry[]): Selector;
  /** `<key> vmap { from-to : jump pick_<link>, ... }`: same coverage rules as `map`. */
  vmap(key: KeyExpr, entries: readonly MapEntry[]): Selector;
  /** Contiguous intervals sized by weight (for random draws and hashes). */
  weightEntries(links?: readonly StrategyLink[]): { modulus: number; entries: MapEntry[] };
  /** Smooth weighted round-robin order, for `numgen inc`: picks spread through the cycle. */
  smoothEntries(links?: readonly StrategyLink[]): { modulus: number; entries: MapEntry[] };
  /**
   * Buckets for a hash that survives a failover: `modulus` buckets spread by weight over every
   * configured link of the tier in use, up or not, and the buckets of a link that is down given
   * to the others by weight. A link going down moves only its own buckets, and they come back
   * with it; the same links always give the same map (see hash-buckets.ts).
   */
  hashEntries(): { modulus: number; entries: MapEntry[] };
  /** Always the same link. */
  constant(link: StrategyLink | string): Selector;
}

const made = new WeakSet<object>();
const makeKey = (text: string, modulus: number): KeyExpr => {
  const key = Object.freeze({ text, modulus });
  made.add(key);
  return key;
};
/** The same choice as a selector's text, as the renderer writes it: a jump to the chosen link's chain. */
type GotoText = (chainOf: (link: StrategyLink) => string) => string;
const gotoTexts = new WeakMap<Selector, GotoText>();
const makeSelector = (text: string, marks: number[], gotoText: GotoText, kind: Selector['kind'] = 'value'): Selector => {
  const selector = Object.freeze({ kind, text, marks: Object.freeze([...new Set(marks)].sort((a, b) => a - b)) });
  made.add(selector);
  gotoTexts.set(selector, gotoText);
  return selector;
};

/**
 * A built selector as a verdict: `goto pick_<link>`, or `<key> vmap { 0 : goto pick_a, ... }`.
 * The per-link chain writes the link's mark into the masked bits of both the packet mark and the
 * ct mark; a mark map (`meta mark set <key> map {...}`) would overwrite every bit of the packet mark.
 * `chainOf` names another chain per link (a sticky rule's, which remembers the source first).
 */
export function selectorVerdict(selector: Selector, chainOf: (link: StrategyLink) => string = pickChain): string {
  const text = gotoTexts.get(selector);
  if (text === undefined) throw new TypeError('not a selector made by the builder');
  return text(chainOf);
}

/** True only for selectors made by a builder: a hand-written `{ text }` is refused. */
export function isBuiltSelector(value: unknown): value is Selector {
  return typeof value === 'object' && value !== null && made.has(value) && 'marks' in value;
}

/** Name of the chain a verdict selector jumps to for one link (link names are [a-z0-9_-]). */
export const pickChain = (link: Pick<StrategyLink, 'name'>): string => `pick_${link.name}`;

export const hex = (n: number): string => `0x${n.toString(16)}`;

/** `Array.isArray` that keeps the element type (on a readonly array it narrows to `any[]`). */
const isList = <T>(value: unknown): value is readonly T[] => Array.isArray(value);

function checkInt(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** A hash field as nft writes it for the family: `ip saddr` → `ip6 saddr`. */
export const familyField = (field: HashField, family: Family): string => (family === 'ipv6' ? field.replace(/^ip /, 'ip6 ') : field);

/**
 * `configured`: every link of the config that carries the family, with its tier, up or not
 * (default: `links`, one tier), which hashEntries() spreads its buckets over.
 */
export function createSelectorBuilder(
  links: readonly StrategyLink[],
  family: Family = 'ipv4',
  configured: readonly BucketLink[] = links.map(({ name, weight }) => ({ name, weight, priority: 0 })),
): SelectorBuilder {
  const byName = new Map(links.map((l) => [l.name, l]));
  const linkOf = (ref: StrategyLink | string): StrategyLink => {
    const name = typeof ref === 'string' ? ref : ref?.name;
    const link = typeof name === 'string' ? byName.get(name) : undefined;
    if (!link) throw new RangeError(`unknown link ${JSON.stringify(name)}`);
    return link;
  };
  const toEntries = (list: readonly StrategyLink[], build: typeof weightIntervals) => {
    const { total, intervals } = build(list.map((l) => l.weight));
    return {
      modulus: total,
      entries: intervals.map((i: Interval) => ({ from: i.from, to: i.to, link: list[i.index] })),
    };
  };
  const builder: SelectorBuilder = {
    numgen(mode, modulus) {
      if (mode !== 'inc' && mode !== 'random') throw new RangeError(`numgen mode must be inc or random, got ${String(mode)}`);
      checkInt('modulus', modulus, 1, MAX_MODULUS);
      return makeKey(`numgen ${mode} mod ${modulus}`, modulus);
    },
    jhash(fields, modulus, seed) {
      if (!isList<HashField>(fields) || fields.length === 0) throw new RangeError('jhash needs at least one field');
      for (const field of fields) {
        if (!(HASH_FIELDS as readonly string[]).includes(field)) {
          throw new RangeError(`jhash field must be one of ${HASH_FIELDS.join(', ')}, got ${JSON.stringify(field)}`);
        }
      }
      checkInt('modulus', modulus, 1, MAX_MODULUS);
      // Always a seed: without one the kernel draws a random seed each time the table is loaded,
      // and every reload would move hashed clients to other links.
      const seedText = ` seed ${hex(checkInt('seed', seed ?? 0, 0, 0xffffffff))}`;
      return makeKey(`jhash ${fields.map((f) => familyField(f, family)).join(' . ')} mod ${modulus}${seedText}`, modulus);
    },
    map(key, entries) {
      const sorted = checkEntries(key, entries);
      const marks = sorted.map((e) => e.link.mark);
      if (new Set(marks).size === 1) return makeSelector(hex(marks[0]), marks, (chainOf) => `goto ${chainOf(sorted[0].link)}`);
      const body = sorted.map((e) => `${range(e)} : ${hex(e.link.mark)}`).join(', ');
      return makeSelector(`${key.text} map { ${body} }`, marks, gotoMap(key, sorted));
    },
    vmap(key, entries) {
      const sorted = checkEntries(key, entries);
      const body = sorted.map((e) => `${range(e)} : jump ${pickChain(e.link)}`).join(', ');
      return makeSelector(`${key.text} vmap { ${body} }`, sorted.map((e) => e.link.mark), gotoMap(key, sorted), 'verdict');
    },
    weightEntries: (list = links) => toEntries(list, weightIntervals),
    smoothEntries: (list = links) => toEntries(list, smoothIntervals),
    hashEntries() {
      const { total, intervals } = hashBuckets(configured, links.map((l) => l.name));
      return { modulus: total, entries: intervals.map((i) => ({ from: i.from, to: i.to, link: linkOf(i.name) })) };
    },
    constant(ref) {
      const link = linkOf(ref);
      return makeSelector(hex(link.mark), [link.mark], (chainOf) => `goto ${chainOf(link)}`);
    },
  };
  const range = (e: { from: number; to: number }) => (e.from === e.to ? `${e.from}` : `${e.from}-${e.to}`);
  const gotoMap = (key: KeyExpr, sorted: readonly { from: number; to: number; link: StrategyLink }[]): GotoText => (chainOf) =>
    `${key.text} vmap { ${sorted.map((e) => `${range(e)} : goto ${chainOf(e.link)}`).join(', ')} }`;
  function checkEntries(key: KeyExpr, entries: readonly MapEntry[]) {
    if (!made.has(key) || !('modulus' in key)) throw new TypeError('map key must come from numgen() or jhash()');
    if (!isList<MapEntry>(entries) || entries.length === 0) throw new RangeError('map needs at least one entry');
    const sorted = entries
      .map((e) => {
        const from = checkInt('map entry from', e?.from, 0, key.modulus - 1);
        const to = checkInt('map entry to', e.to ?? from, from, key.modulus - 1);
        return { from, to, link: linkOf(e.link) };
      })
      .sort((a, b) => a.from - b.from);
    let next = 0;
    for (const e of sorted) {
      if (e.from < next) throw new RangeError(`map entries overlap at ${e.from}`);
      if (e.from > next) throw new RangeError(`map entries leave ${next}..${e.from - 1} without a link`);
      next = e.to + 1;
    }
    if (next !== key.modulus) throw new RangeError(`map entries leave ${next}..${key.modulus - 1} without a link`);
    return sorted;
  }
  return Object.freeze(builder);
}
