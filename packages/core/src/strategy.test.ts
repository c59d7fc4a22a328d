import { describe, expect, it } from '@jest/globals';
import { MwanError } from './errors.js';
import type { StrategyLink } from './nft-builder.js';
import { defineStrategy, isStrategy, runStrategy } from './strategy.js';

const links: StrategyLink[] = [
  { name: 'a', mark: 1, weight: 1, interface: 'wan1', family: 'ipv4' },
  { name: 'b', mark: 2, weight: 1, interface: 'wan2', family: 'ipv4' },
];

const errorOf = (fn: () => unknown): MwanError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MwanError);
    return error as MwanError;
  }
  throw new Error('did not throw');
};

describe('defineStrategy', () => {
  it('brands a valid definition', () => {
    const s = defineStrategy({ name: 'first', meta: { description: 'x' }, select: ({ nft }) => nft.constant('a') });
    expect(isStrategy(s)).toBe(true);
    expect(isStrategy({ ...s })).toBe(true);
    expect(isStrategy({ name: 'x', select() {} })).toBe(false);
  });

  it('blames the strategy for a broken definition', () => {
    expect(() => defineStrategy({ name: 'Bad Name', meta: { description: 'x' }, select: () => null as never })).toThrow(/invalid strategy definition: name/);
    expect(() => defineStrategy({ name: 'ok', meta: { description: 'x', schema: { type: 'nonsense' } }, select: () => null as never })).toThrow(/meta.schema is not a valid JSON Schema/);
  });
});

describe('runStrategy', () => {
  const withMode = defineStrategy<{ mode: string }>({
    name: 'modal',
    meta: {
      description: 'x',
      schema: { type: 'object', additionalProperties: false, properties: { mode: { enum: ['random', 'inc'] } } },
      defaultOptions: { mode: 'inc' },
    },
    select: ({ nft, links: ls }, { mode }) => nft.map(nft.numgen(mode as 'inc', ls.length), ls.map((link, i) => ({ from: i, link }))),
  });

  it('fills defaults and validates options, naming the strategy and option', () => {
    expect(runStrategy(withMode, links, {}).text).toBe('numgen inc mod 2 map { 0 : 0x1, 1 : 0x2 }');
    expect(errorOf(() => runStrategy(withMode, links, { mode: 'fast' })).problems).toEqual([
      'strategy "modal": options.mode: "fast" must be one of random, inc',
    ]);
    expect(errorOf(() => runStrategy(withMode, links, { speed: 1 })).problems[0]).toMatch(/^strategy "modal": options: unexpected property "speed"/);
  });

  it('reports a strategy that throws, forges a selector or picks a foreign mark', () => {
    const throwing = defineStrategy({ name: 'boom', meta: { description: 'x' }, select: () => { throw new Error('kaput'); } });
    expect(errorOf(() => runStrategy(throwing, links, {})).message).toBe('strategy "boom": select() failed: kaput');
    const forged = defineStrategy({ name: 'forge', meta: { description: 'x' }, select: () => ({ kind: 'value', text: '0x1; drop', marks: [1] }) });
    expect(errorOf(() => runStrategy(forged, links, {})).message).toMatch(/must return a selector made with ctx.nft/);
    const other = createForeign();
    expect(errorOf(() => runStrategy(other, links.slice(0, 1), {})).message).toMatch(/no active link: 2/);
  });
});

// A strategy that keeps a builder from another run and reuses it with links it was not given.
function createForeign() {
  let saved: ((l: string) => unknown) | undefined;
  runStrategy(defineStrategy({ name: 'spy', meta: { description: 'x' }, select: ({ nft }) => { saved = (l) => nft.constant(l); return nft.constant('a'); } }), links, {});
  return defineStrategy({ name: 'foreign', meta: { description: 'x' }, select: () => (saved as (l: string) => never)('b') });
}
