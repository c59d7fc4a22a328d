import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { reduceWeights, smoothIntervals, weightIntervals, type Interval } from './weights.js';

const weightSets = fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 64 });

/** Every slot 0..total-1 is owned by exactly one interval, intervals in order, none empty. */
function expectExactCover(intervals: Interval[], total: number) {
  const problems: string[] = [];
  let next = 0;
  for (const interval of intervals) {
    if (interval.from !== next) problems.push(`interval starts at ${interval.from}, expected ${next}`);
    if (interval.to < interval.from) problems.push(`interval ${interval.from}-${interval.to} is empty`);
    next = interval.to + 1;
  }
  if (next !== total) problems.push(`intervals end at ${next - 1}, expected ${total - 1}`);
  expect(problems).toEqual([]);
}

function slotsPerLink(intervals: Interval[], links: number): number[] {
  const counts = new Array<number>(links).fill(0);
  for (const i of intervals) counts[i.index] += i.to - i.from + 1;
  return counts;
}

describe('weightIntervals', () => {
  it('covers 0..total-1 exactly once, in input order, with each link owning its reduced weight', () => {
    fc.assert(
      fc.property(weightSets, (weights) => {
        const { total, intervals } = weightIntervals(weights);
        const reduced = reduceWeights(weights);
        expect(total).toBe(reduced.reduce((a, b) => a + b, 0));
        expectExactCover(intervals, total);
        expect(intervals.map((i) => i.index)).toEqual(weights.map((_, i) => i));
        expect(slotsPerLink(intervals, weights.length)).toEqual(reduced);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps proportions when dividing by the common divisor', () => {
    fc.assert(
      fc.property(weightSets, (weights) => {
        const reduced = reduceWeights(weights);
        const ratio = weights[0] / reduced[0];
        expect(Number.isInteger(ratio)).toBe(true);
        expect(reduced.map((r) => r * ratio)).toEqual(weights);
      }),
    );
  });

  it('gives the three-link case contiguous, non-overlapping ranges', () => {
    expect(weightIntervals([2, 3, 5]).intervals).toEqual([
      { index: 0, from: 0, to: 1 },
      { index: 1, from: 2, to: 4 },
      { index: 2, from: 5, to: 9 },
    ]);
  });

  it('rejects weights that are not positive integers', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => weightIntervals([1, bad])).toThrow(RangeError);
  });
});

describe('smoothIntervals', () => {
  it('gives each link exactly its reduced weight per cycle and covers the cycle exactly once', () => {
    fc.assert(
      fc.property(weightSets, (weights) => {
        const { total, intervals } = smoothIntervals(weights);
        expectExactCover(intervals, total);
        expect(slotsPerLink(intervals, weights.length)).toEqual(reduceWeights(weights));
      }),
      { numRuns: 1000 },
    );
  });

  /** The largest distance, over every prefix of the cycle and every link, between its picks and its fair share. */
  const worstDeviation = (weights: number[]) => {
    const { total, intervals } = smoothIntervals(weights);
    const reduced = reduceWeights(weights);
    const seen = new Array<number>(weights.length).fill(0);
    let worst = 0;
    let position = 0;
    for (const interval of intervals) {
      for (let s = interval.from; s <= interval.to; s++) {
        seen[interval.index]++;
        position++;
        reduced.forEach((w, i) => {
          worst = Math.max(worst, Math.abs(seen[i] - (w * position) / total));
        });
      }
    }
    return worst;
  };

  it('spreads picks: in every prefix of the cycle a link is within one pick of its fair share', () => {
    // Smooth weighted round-robin as nginx does it strays 1.03 picks here.
    expect(worstDeviation([15, 2, 1, 2, 1, 2, 15])).toBeLessThan(1);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 8 }), (weights) => {
        expect(worstDeviation(weights)).toBeLessThan(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('does not give 1:3 as a block', () => {
    const { intervals } = smoothIntervals([1, 3]);
    const sequence = intervals.flatMap((i) => Array.from({ length: i.to - i.from + 1 }, () => i.index));
    expect(sequence).toHaveLength(4);
    expect(sequence).not.toEqual([0, 1, 1, 1]);
    expect(sequence.filter((x) => x === 0)).toHaveLength(1);
    expect(sequence[0]).toBe(1);
  });
});
