/**
 * Weight arithmetic, in one place for every weighted strategy. A slot is one value of
 * `numgen ... mod total` or `jhash ... mod total`; each link owns `weight` slots.
 */
export interface Interval {
  /** Index of the link in the input. */
  index: number;
  from: number;
  /** Inclusive. */
  to: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Weights divided by their greatest common divisor: 2:6 and 1:3 give the same map. */
export function reduceWeights(weights: readonly number[]): number[] {
  for (const w of weights) {
    if (!Number.isSafeInteger(w) || w < 1) throw new RangeError(`weight ${w} is not a positive integer`);
  }
  const divisor = weights.reduce((acc, w) => gcd(acc, w), 0) || 1;
  return weights.map((w) => w / divisor);
}

/**
 * Contiguous intervals in input order: link i owns [start, start + w_i - 1], then start += w_i.
 * (Setting start = w_i instead makes intervals overlap from the third link on.)
 */
export function weightIntervals(weights: readonly number[]): { total: number; intervals: Interval[] } {
  const reduced = reduceWeights(weights);
  const intervals: Interval[] = [];
  let start = 0;
  reduced.forEach((w, index) => {
    intervals.push({ index, from: start, to: start + w - 1 });
    start += w;
  });
  return { total: start, intervals };
}

/**
 * Smooth weighted round-robin order: over one cycle of `total` picks each link gets exactly its
 * weight, spread out rather than in blocks (1:3 → B A B B, not A B B B). Earliest deadline first:
 * the k-th pick of link i is due by slot k·total/w_i and may not come before slot
 * (k-1)·total/w_i; the pick goes to the released link whose next pick is due soonest. So after any
 * t picks each link has between ⌊t·w_i/total⌋ and ⌊(t-1)·w_i/total⌋ + 1 of them: always within
 * one pick of its fair share (nginx's smooth round-robin can stray further: 15:2:1:2:1:2:15).
 * Some link is always released: were none, every link would have more than slot·w_i/total picks,
 * more than `slot` in all.
 * Runs of one link are merged into one interval, so the map stays small.
 */
export function smoothIntervals(weights: readonly number[]): { total: number; intervals: Interval[] } {
  const reduced = reduceWeights(weights);
  const total = reduced.reduce((a, b) => a + b, 0);
  const picks = reduced.map(() => 0);
  const intervals: Interval[] = [];
  for (let slot = 0; slot < total; slot++) {
    let best = -1;
    for (let i = 0; i < reduced.length; i++) {
      // Released: its next pick may come at this slot (picks·total/w ≤ slot), in integers.
      if (picks[i] >= reduced[i] || picks[i] * total > slot * reduced[i]) continue;
      // Due sooner: (picks_i + 1)/w_i < (picks_best + 1)/w_best; ties go to the earlier link.
      if (best < 0 || (picks[i] + 1) * reduced[best] < (picks[best] + 1) * reduced[i]) best = i;
    }
    picks[best]++;
    const last = intervals[intervals.length - 1];
    if (last && last.index === best) last.to = slot;
    else intervals.push({ index: best, from: slot, to: slot });
  }
  return { total, intervals };
}
