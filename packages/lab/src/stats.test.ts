import { describe, it, expect } from '@jest/globals';
import { chiSquare, tally } from './stats.js';

describe('chiSquare', () => {
  it('is 0 for an exact split and grows with the deviation', () => {
    expect(chiSquare([25, 75], [1, 3])).toBe(0);
    // (40-50)²/50 + (60-50)²/50 = 4
    expect(chiSquare([40, 60], [1, 1])).toBeCloseTo(4);
    // expected 100 and 300: (130-100)²/100 + (270-300)²/300 = 9 + 3
    expect(chiSquare([130, 270], [1, 3])).toBeCloseTo(12);
  });

  it('refuses mismatched inputs', () => {
    expect(() => chiSquare([1, 2], [1])).toThrow(RangeError);
  });
});

describe('tally', () => {
  it('counts by key', () => {
    expect([...tally(['a', 'b', 'a'], (x) => x)]).toEqual([['a', 2], ['b', 1]]);
  });
});
