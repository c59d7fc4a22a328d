import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Config } from './config-types.js';
import { MwanError } from './errors.js';
import { allocateMarks, buildModel } from './model.js';

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

describe('strategy choice', () => {
  it('defaults to weighted and lets --strategy replace the name', () => {
    expect(buildModel(config(['a'])).strategy).toEqual({ name: 'weighted', options: {} });
    const withOptions: Config = { ...config(['a']), strategy: { name: 'weighted', options: { mode: 'inc' } } };
    expect(buildModel(withOptions).strategy).toEqual({ name: 'weighted', options: { mode: 'inc' } });
    expect(buildModel(withOptions, { strategy: 'round-robin' }).strategy).toEqual({ name: 'round-robin', options: {} });
    expect(buildModel(withOptions, { strategy: 'weighted' }).strategy.options).toEqual({ mode: 'inc' });
  });
});
