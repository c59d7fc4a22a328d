import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Config } from './config-types.js';
import { MwanError } from './errors.js';
import { allocateMarks, buildModel, nthMaskValue } from './model.js';
import { verifyConfig } from './verify-config.js';

const config = (names: string[], extra: Partial<Config['links'][number]>[] = []): Config => ({
  lan: ['eth0'],
  links: names.map((name, i) => ({ name, interface: `wan${i}`, ...(extra[i] ?? {}) })),
});

describe('mark allocation', () => {
  it('numbers links from 1 with tables 1000 + mark', () => {
    const model = buildModel(config(['a', 'b', 'c']));
    expect(model.links.map((l) => [l.mark, l.table])).toEqual([[1, 1001], [2, 1002], [3, 1003]]);
  });

  it('keeps the mark of every link that stays when links are added, removed, renamed or reordered', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 1, maxLength: 20 }),
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 1, maxLength: 20 }),
        (before, after) => {
          const first = allocateMarks(config(before));
          const previous = Object.fromEntries(before.map((name, i) => [name, first[i]]));
          const second = allocateMarks(config(after), previous);
          const problems = after.filter((name, i) => name in previous && previous[name] !== second[i]);
          expect(problems).toEqual([]);
          expect(new Set(second).size).toBe(second.length);
        },
      ),
    );
  });

  it('gives explicit marks precedence over remembered ones', () => {
    const marks = allocateMarks(config(['a', 'b'], [{}, { mark: 1 }]), { a: 1 });
    expect(marks).toEqual([2, 1]);
  });

  it('reports a default table that collides with an explicit one', () => {
    expect(() => buildModel(config(['a', 'b'], [{ table: 1002 }, {}]))).toThrow(MwanError);
    try {
      buildModel(config(['a', 'b'], [{ table: 1002 }, {}]));
    } catch (error) {
      expect((error as MwanError).problems).toEqual(['links[1].table: 1002 (1000 + mark 2) is already used by links[0]']);
    }
  });
});

describe('the mark mask', () => {
  it('defaults to 0xff and allocates marks inside any mask, lowest first', () => {
    expect(buildModel(config(['a'])).markMask).toBe(0xff);
    expect(allocateMarks({ ...config(['a', 'b', 'c']), markMask: 0xff00 })).toEqual([0x100, 0x200, 0x300]);
    // Bits need not be contiguous: 0x10004 has the values 0x4, 0x10000, 0x10004.
    expect(allocateMarks({ ...config(['a', 'b', 'c']), markMask: 0x10004 })).toEqual([0x4, 0x10000, 0x10004]);
    expect([1, 2, 3, 4].map((n) => nthMaskValue(n, 0x3))).toEqual([1, 2, 3, undefined]);
  });

  it('does not keep a remembered mark that no longer fits', () => {
    expect(allocateMarks({ ...config(['a', 'b']), markMask: 0xf0 }, { a: 0x1, b: 0x20 })).toEqual([0x10, 0x20]);
  });

  it('fits 255 links in the default mask and says so for the 256th', () => {
    const names = Array.from({ length: 256 }, (_, i) => `l${i}`);
    expect(buildModel(config(names.slice(0, 255))).links.at(-1)?.mark).toBe(0xff);
    let problems: readonly string[] = [];
    try {
      buildModel(config(names));
    } catch (error) {
      problems = (error as MwanError).problems;
    }
    expect(problems).toEqual(['links[255]: no mark left inside markMask 0xff; widen markMask or give "mark"']);
  });

  it('refuses a link mark outside the mask, one line per link naming the field', () => {
    expect(verifyConfig(config(['a', 'b', 'c'], [{}, { mark: 0x100 }, { mark: 0x4001 }]))).toEqual([
      'links[1].mark: 0x100 does not fit markMask 0xff',
      'links[2].mark: 0x4001 does not fit markMask 0xff',
    ]);
    expect(verifyConfig({ ...config(['a'], [{ mark: 0x4000 }]), markMask: 0x3fff })).toEqual(['links[0].mark: 0x4000 does not fit markMask 0x3fff']);
    expect(verifyConfig({ ...config(['a'], [{ mark: 0x80000000 }]), markMask: 0xffffffff })).toEqual([]);
  });
});

describe('strategy choice', () => {
  it('defaults to weighted and lets --strategy replace the name', () => {
    expect(buildModel(config(['a'])).strategy).toEqual({ name: 'weighted', options: {} });
    const withOptions: Config = { ...config(['a']), strategy: { name: 'weighted', options: { mode: 'inc' } } };
    expect(buildModel(withOptions).strategy).toEqual({ name: 'weighted', options: { mode: 'inc' } });
    expect(buildModel(withOptions, { strategy: 'round-robin' }).strategy).toEqual({ name: 'round-robin', options: {} });
    expect(buildModel(withOptions, { strategy: 'weighted' }).strategy.options).toEqual({ mode: 'inc' });
  });
});
