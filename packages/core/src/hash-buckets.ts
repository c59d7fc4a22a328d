import { reduceWeights } from './weights.js';

/**
 * The bucket table behind hashing that survives a failover. A hash (`jhash ... mod total`) picks
 * one of `total` buckets; this says which link each bucket goes to. Every bucket has a fixed
 * order of preference over the configured links of a tier, and goes to the first one in its order
 * that is up. So:
 *
 * - a link going down moves its own buckets and no other; coming back, it takes exactly those
 *   back (for any set of links already down);
 * - the table is a pure function of the configured links (names, weights, tiers) and the set
 *   that is up: a reload or a restart with the same links moves nobody, whatever happened before.
 *
 * The orders are built so the shares stay fair. Every bucket's first choice is an interval sized
 * by weight (total is a multiple of the reduced weights' sum: exact). The buckets of each link
 * are then apportioned over the others by weight with the largest-remainder method, and so on
 * for a few levels; then by weighted rendezvous hashing. With every link of the tier up each
 * link has exactly total·w/W buckets; with one down each has ⌊total·w/W'⌋ or ⌈total·w/W'⌉ (W':
 * the weights that are up), so that link's failure moves a share within 1/total of its weight
 * share. With more down the error grows with the number down (see the tests).
 */
export interface BucketLink {
  readonly name: string;
  readonly weight: number;
  /** Tier: only links of the tier that is in use share the table. */
  readonly priority: number;
}

export interface BucketInterval {
  readonly name: string;
  readonly from: number;
  /** Inclusive. */
  readonly to: number;
}

/** At least this many buckets, so one link's buckets can be spread over many others. */
export const MIN_BUCKETS = 4096;

/**
 * Levels apportioned exactly below the first choice. The work of a level grows like n^level, so
 * large tiers get fewer levels (at least one: the single-failure bound needs it).
 */
export function apportionedLevels(links: number): number {
  return links < 2 ? 0 : Math.max(1, Math.floor(14 / Math.log2(links)));
}

/** Bucket count for a tier's weights: a multiple of their reduced sum, at least MIN_BUCKETS. */
export function bucketTotal(weights: readonly number[]): number {
  const sum = reduceWeights(weights).reduce((a, b) => a + b, 0);
  return Math.ceil(MIN_BUCKETS / sum) * sum;
}

/**
 * Which link each bucket goes to, as intervals in bucket order. `configured`: every configured
 * link, up or not; `up`: the links that take new connections now. The table covers the links of
 * the tiers the `up` links belong to (one tier in practice: the best one with a healthy link).
 */
export function hashBuckets(configured: readonly BucketLink[], up: readonly string[]): { total: number; intervals: BucketInterval[] } {
  const upNames = new Set(up);
  const tiers = new Set(configured.filter((l) => upNames.has(l.name)).map((l) => l.priority));
  if (!tiers.size) throw new RangeError('hash buckets need at least one configured link that is up');
  // Name order, not config order: reordering links in the config moves nobody.
  const base = configured.filter((l) => tiers.has(l.priority)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const weights = reduceWeights(base.map((l) => l.weight));
  const isUp = base.map((l) => upNames.has(l.name));
  const total = bucketTotal(weights);
  const levels = apportionedLevels(base.length);
  const intervals: { name: string; from: number; to: number }[] = [];
  const emit = (index: number, from: number, size: number) => {
    const name = base[index].name;
    const last = intervals[intervals.length - 1];
    if (last && last.name === name && last.to + 1 === from) last.to = from + size - 1;
    else intervals.push({ name, from, to: from + size - 1 });
  };
  const upIndices = base.map((_, i) => i).filter((i) => isUp[i]);
  const tags = base.map((l) => nameHash(l.name));

  // `remaining`: the links a bucket range may still go to (indices into base, name order);
  // `start`: where ties begin (just after the link that went down), so the extra buckets of
  // different links' failures go to different links instead of all to the first names.
  const place = (from: number, size: number, remaining: readonly number[], level: number, start: number) => {
    const pieces = apportion(size, remaining.map((i) => weights[i]), start);
    let at = from;
    remaining.forEach((index, j) => {
      const piece = pieces[j];
      if (!piece) return;
      if (isUp[index]) emit(index, at, piece);
      else if (level < levels) place(at, piece, remaining.filter((_, k) => k !== j), level + 1, j);
      else for (let bucket = at; bucket < at + piece; bucket++) emit(rendezvous(bucket, upIndices, weights, tags), bucket, 1);
      at += piece;
    });
  };
  place(0, total, base.map((_, i) => i), 0, 0);
  return { total, intervals };
}

/**
 * `size` split in proportion to `weights` (Hamilton's largest-remainder method): each part is the
 * floor or the ceiling of its exact quota, and the parts sum to `size`. Equal remainders go in
 * order from `start`, cyclically.
 */
export function apportion(size: number, weights: readonly number[], start = 0): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const parts = weights.map((w) => Math.floor((size * w) / sum));
  let left = size - parts.reduce((a, b) => a + b, 0);
  const n = weights.length;
  const order = weights
    .map((w, i) => ({ i, remainder: (size * w) % sum, turn: (i - start + n) % n }))
    .sort((a, b) => b.remainder - a.remainder || a.turn - b.turn);
  for (const { i } of order) {
    if (left-- <= 0) break;
    parts[i]++;
  }
  return parts;
}

/** Weighted rendezvous: the up link with the lowest -ln(u)/w, u a hash of (bucket, link) in (0, 1). */
function rendezvous(bucket: number, candidates: readonly number[], weights: readonly number[], tags: readonly number[]): number {
  let best = candidates[0];
  let bestScore = Infinity;
  for (const index of candidates) {
    const u = (mix(tags[index] ^ Math.imul(bucket + 1, 0x9e3779b9)) + 0.5) / 2 ** 32;
    const score = -Math.log(u) / weights[index];
    if (score < bestScore) {
      best = index;
      bestScore = score;
    }
  }
  return best;
}

/** FNV-1a over the name's UTF-16 code units (link names are ASCII). */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** MurmurHash3's finalizer: every input bit reaches every output bit. */
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
