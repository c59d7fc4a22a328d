import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { apportion, apportionedLevels, bucketTotal, hashBuckets, MIN_BUCKETS, type BucketInterval, type BucketLink } from './hash-buckets.js';

/** Owner of each bucket, checking on the way that the intervals cover 0..total-1 once, in order. */
function owners(table: { total: number; intervals: BucketInterval[] }): string[] {
  const owner: string[] = [];
  for (const interval of table.intervals) {
    expect(interval.from).toBe(owner.length);
    expect(interval.to).toBeGreaterThanOrEqual(interval.from);
    for (let b = interval.from; b <= interval.to; b++) owner.push(interval.name);
  }
  expect(owner).toHaveLength(table.total);
  return owner;
}

const countOf = (owner: readonly string[], name: string) => owner.filter((o) => o === name).length;

/** The largest |buckets − total·w/W| over the links that are up. */
function worstError(links: readonly BucketLink[], up: readonly string[], owner: readonly string[]): number {
  const upLinks = links.filter((l) => up.includes(l.name));
  const sum = upLinks.reduce((a, l) => a + l.weight, 0);
  return Math.max(...upLinks.map((l) => Math.abs(countOf(owner, l.name) - (owner.length * l.weight) / sum)));
}

/** 2–24 links of one tier; weights small (many ties) or up to 1000. */
const tierOf = (max: number) =>
  fc
    .array(fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 1000 })), { minLength: 2, maxLength: max })
    .map((weights): BucketLink[] => weights.map((weight, i) => ({ name: `l${i}`, weight, priority: 0 })));

/** A tier and a set of links that are down in it (never all of them), as indices. */
const tierWithDown = (max: number, down: { min: number; max: number }) =>
  tierOf(max).chain((links) =>
    fc.tuple(
      fc.constant(links),
      fc.shuffledSubarray(links.map((l) => l.name), { minLength: Math.min(down.min, links.length - 1), maxLength: Math.min(down.max, links.length - 1) }),
    ));

const upWithout = (links: readonly BucketLink[], down: readonly string[]) => links.map((l) => l.name).filter((n) => !down.includes(n));

describe('hashBuckets', () => {
  it('with every link up: contiguous intervals, exactly total·w/W buckets each, total a multiple of the reduced sum ≥ MIN_BUCKETS', () => {
    fc.assert(
      fc.property(tierOf(64), (links) => {
        const table = hashBuckets(links, links.map((l) => l.name));
        const owner = owners(table);
        expect(table.total).toBe(bucketTotal(links.map((l) => l.weight)));
        expect(table.total).toBeGreaterThanOrEqual(MIN_BUCKETS);
        expect(table.intervals).toHaveLength(links.length);
        expect(worstError(links, links.map((l) => l.name), owner)).toBe(0);
      }),
    );
  });

  it('a link going down moves its own buckets and no other, whatever is down already; they come back with it', () => {
    fc.assert(
      fc.property(tierWithDown(24, { min: 0, max: 23 }).chain(([links, down]) => fc.tuple(fc.constant(links), fc.constant(down), fc.constantFrom(...upWithout(links, down)))), ([links, down, failing]) => {
        const up = upWithout(links, down);
        fc.pre(up.length >= 2);
        const before = owners(hashBuckets(links, up));
        const after = owners(hashBuckets(links, up.filter((n) => n !== failing)));
        const moved = before.filter((o, b) => o !== after[b]);
        // Exactly the failing link's buckets moved: the moved share is its share before.
        expect(moved.length).toBe(countOf(before, failing));
        expect(new Set(moved)).toEqual(new Set([failing]));
        expect(after).not.toContain(failing);
        // Coming back is the same function of the same set: every bucket returns.
        expect(owners(hashBuckets(links, up))).toEqual(before);
      }),
    );
  });

  it('with one link down every link is within one bucket of its weight share (so that failure moved its share within 1/total)', () => {
    fc.assert(
      fc.property(tierWithDown(64, { min: 1, max: 1 }), ([links, down]) => {
        const up = upWithout(links, down);
        const owner = owners(hashBuckets(links, up));
        expect(worstError(links, up, owner)).toBeLessThan(1);
        const failing = links.find((l) => l.name === down[0])!;
        const full = owners(hashBuckets(links, links.map((l) => l.name)));
        const sum = links.reduce((a, l) => a + l.weight, 0);
        expect(Math.abs(countOf(full, failing.name) - (full.length * failing.weight) / sum)).toBeLessThan(1);
      }),
    );
  });

  it('with two links down every link is within 6 buckets of its weight share (tiers of up to 128 links; 3 measured)', () => {
    fc.assert(
      fc.property(tierWithDown(24, { min: 2, max: 2 }), ([links, down]) => {
        fc.pre(links.length >= 3);
        const up = upWithout(links, down);
        expect(worstError(links, up, owners(hashBuckets(links, up)))).toBeLessThan(6);
      }),
    );
  });

  it('with more links down stays within the spread of rendezvous hashing, which takes over below a few levels', () => {
    fc.assert(
      fc.property(tierWithDown(24, { min: 3, max: 20 }), ([links, down]) => {
        const up = upWithout(links, down);
        const owner = owners(hashBuckets(links, up));
        const sum = links.filter((l) => up.includes(l.name)).reduce((a, l) => a + l.weight, 0);
        for (const link of links.filter((l) => up.includes(l.name))) {
          // Five standard deviations of a binomial draw of the link's share (3.5 measured over 4000 sets).
          const ideal = (owner.length * link.weight) / sum;
          expect(Math.abs(countOf(owner, link.name) - ideal)).toBeLessThan(5 * Math.sqrt(ideal * (1 - link.weight / sum) + 1));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('depends on the links and the set that is up, not on their order', () => {
    fc.assert(
      fc.property(tierWithDown(16, { min: 0, max: 15 }).chain(([links, down]) => fc.tuple(fc.constant(links), fc.constant(down), fc.shuffledSubarray(links, { minLength: links.length }))), ([links, down, shuffled]) => {
        const up = upWithout(links, down);
        expect(hashBuckets(shuffled, [...up].reverse())).toEqual(hashBuckets(links, up));
      }),
    );
  });

  it('spreads a tier over its own links only: a backup tier in use has the whole table', () => {
    const links: BucketLink[] = [
      { name: 'fibre', weight: 3, priority: 0 },
      { name: 'cable', weight: 1, priority: 0 },
      { name: 'lte', weight: 1, priority: 1 },
      { name: 'sat', weight: 1, priority: 1 },
    ];
    const primary = hashBuckets(links, ['fibre', 'cable']);
    expect(primary.intervals).toEqual([{ name: 'cable', from: 0, to: 1023 }, { name: 'fibre', from: 1024, to: 4095 }]);
    // The backups' table does not depend on which primary links exist or how much they weigh.
    const backups = hashBuckets(links, ['lte', 'sat']);
    expect(backups).toEqual(hashBuckets(links.slice(2), ['lte', 'sat']));
    expect(backups.intervals).toEqual([{ name: 'lte', from: 0, to: 2047 }, { name: 'sat', from: 2048, to: 4095 }]);
    expect(() => hashBuckets(links, ['dsl'])).toThrow(/at least one configured link that is up/);
  });

  it('apportions fewer levels in large tiers, at least one (the one-down bound needs it), two up to 128 links', () => {
    expect([2, 3, 16, 64, 128, 129, 256].map(apportionedLevels)).toEqual([14, 8, 3, 2, 2, 1, 1]);
    expect(apportionedLevels(1)).toBe(0);
  });
});

describe('apportion', () => {
  it('gives each part the floor or the ceiling of its quota, summing to the size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 64 }), fc.nat(), (size, weights, start) => {
        const parts = apportion(size, weights, start % weights.length);
        const sum = weights.reduce((a, b) => a + b, 0);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(size);
        parts.forEach((p, i) => {
          const quota = (size * weights[i]) / sum;
          expect(p === Math.floor(quota) || p === Math.ceil(quota)).toBe(true);
        });
      }),
    );
  });

  it('gives equal remainders in turn from start', () => {
    expect(apportion(2, [1, 1, 1, 1], 0)).toEqual([1, 1, 0, 0]);
    expect(apportion(2, [1, 1, 1, 1], 3)).toEqual([1, 0, 0, 1]);
  });
});
