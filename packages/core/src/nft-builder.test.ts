import { describe, expect, it } from '@jest/globals';
import { createSelectorBuilder, isBuiltSelector, selectorVerdict, type Selector, type StrategyLink } from './nft-builder.js';

const links: StrategyLink[] = [
  { name: 'a', mark: 1, weight: 1, interface: 'wan1', family: 'ipv4' },
  { name: 'b', mark: 2, weight: 3, interface: 'wan2', family: 'ipv4' },
  { name: 'c', mark: 0x10, weight: 2, interface: 'wan3', family: 'ipv4' },
];
const nft = createSelectorBuilder(links);

describe('selector builder', () => {
  it('builds an interval map over a numgen key', () => {
    const { modulus, entries } = nft.weightEntries();
    const selector = nft.map(nft.numgen('random', modulus), entries);
    expect(selector.text).toBe('numgen random mod 6 map { 0 : 0x1, 1-3 : 0x2, 4-5 : 0x10 }');
    expect(selector.marks).toEqual([1, 2, 16]);
    expect(isBuiltSelector(selector)).toBe(true);
  });

  it('gives hash buckets over the configured links, so a link that is down moves only its own', () => {
    // Default: the given links are all there is (a 1:3:2 tier, 4098 buckets in name order).
    expect(nft.hashEntries()).toEqual({
      modulus: 4098,
      entries: [{ from: 0, to: 682, link: links[0] }, { from: 683, to: 2731, link: links[1] }, { from: 2732, to: 4097, link: links[2] }],
    });
    // With a down: b and c keep theirs, and a's 683 buckets go 3:2 to b and c (410 and 273).
    const configured = links.map((l) => ({ name: l.name, weight: l.weight, priority: 0 }));
    const withoutA = createSelectorBuilder([links[1], links[2]], 'ipv4', configured);
    const { modulus, entries } = withoutA.hashEntries();
    expect(modulus).toBe(4098);
    expect(entries).toEqual([
      { from: 0, to: 409, link: links[1] }, { from: 410, to: 682, link: links[2] }, { from: 683, to: 2731, link: links[1] }, { from: 2732, to: 4097, link: links[2] },
    ]);
    expect(withoutA.map(withoutA.jhash(['ip saddr'], modulus), entries).text).toBe('jhash ip saddr mod 4098 seed 0x0 map { 0-409 : 0x2, 410-682 : 0x10, 683-2731 : 0x2, 2732-4097 : 0x10 }');
  });

  it('builds a jhash key over several fields with a seed', () => {
    const key = nft.jhash(['ip saddr', 'ip daddr'], 2, 42);
    expect(key.text).toBe('jhash ip saddr . ip daddr mod 2 seed 0x2a');
  });

  it('collapses a map with one link into a constant mark', () => {
    expect(nft.map(nft.numgen('inc', 1), [{ from: 0, link: 'b' }]).text).toBe('0x2');
  });

  it('rejects overlapping, incomplete and out-of-range entries', () => {
    const key = nft.numgen('inc', 3);
    expect(() => nft.map(key, [{ from: 0, to: 1, link: 'a' }, { from: 1, to: 2, link: 'b' }])).toThrow(/overlap/);
    expect(() => nft.map(key, [{ from: 0, to: 1, link: 'a' }])).toThrow(/2\.\.2 without a link/);
    expect(() => nft.map(key, [{ from: 1, to: 2, link: 'a' }])).toThrow(/0\.\.0 without a link/);
    expect(() => nft.map(key, [{ from: 0, to: 3, link: 'a' }])).toThrow(/from 0 to 2/);
    expect(() => nft.map(key, [{ from: -1, to: 2, link: 'a' }])).toThrow(RangeError);
    expect(() => nft.map(key, [{ from: 0.5, to: 2, link: 'a' }])).toThrow(RangeError);
  });

  it('rejects unknown links, fields and modes, and keys it did not make', () => {
    expect(() => nft.map(nft.numgen('inc', 1), [{ from: 0, link: 'zz' }])).toThrow(/unknown link/);
    expect(() => nft.jhash(['ip saddr; drop' as never], 2)).toThrow(/jhash field/);
    expect(() => nft.numgen('inc; drop' as never, 2)).toThrow(/numgen mode/);
    expect(() => nft.numgen('inc', 0)).toThrow(RangeError);
    expect(() => nft.numgen('inc', 2 ** 40)).toThrow(RangeError);
    expect(() => nft.jhash(['ip saddr'], 2, -1)).toThrow(RangeError);
    expect(() => nft.map({ text: 'meta mark set 1; drop', modulus: 1 }, [{ from: 0, link: 'a' }])).toThrow(TypeError);
  });

  it('does not accept a hand-made selector as built', () => {
    expect(isBuiltSelector({ text: '0x1', marks: [1] })).toBe(false);
  });
});

describe('verdict maps', () => {
  it('jumps to per-link pick chains with the same coverage checks', () => {
    const selector = nft.vmap(nft.jhash(['ip daddr'], 3), [{ from: 0, link: 'a' }, { from: 1, to: 2, link: 'c' }]);
    expect(selector.kind).toBe('verdict');
    expect(selector.text).toBe('jhash ip daddr mod 3 seed 0x0 vmap { 0 : jump pick_a, 1-2 : jump pick_c }');
    expect(selector.marks).toEqual([1, 16]);
    expect(() => nft.vmap(nft.numgen('inc', 2), [{ from: 0, link: 'a' }])).toThrow(/1\.\.1 without a link/);
  });
});

describe('the verdict form the renderer writes', () => {
  it('is the same choice as a goto into the chosen link\'s pick chain, for maps, verdict maps and constants', () => {
    const { modulus, entries } = nft.weightEntries();
    expect(selectorVerdict(nft.map(nft.numgen('random', modulus), entries))).toBe('numgen random mod 6 vmap { 0 : goto pick_a, 1-3 : goto pick_b, 4-5 : goto pick_c }');
    expect(selectorVerdict(nft.vmap(nft.jhash(['ip daddr'], 2), [{ from: 0, link: 'a' }, { from: 1, link: 'c' }]))).toBe('jhash ip daddr mod 2 seed 0x0 vmap { 0 : goto pick_a, 1 : goto pick_c }');
    expect(selectorVerdict(nft.map(nft.numgen('inc', 2), [{ from: 0, to: 1, link: 'b' }]))).toBe('goto pick_b');
    expect(selectorVerdict(nft.constant('c'))).toBe('goto pick_c');
  });

  it('exists only for selectors the builder made', () => {
    const forged = Object.freeze({ kind: 'value', text: '0x1', marks: [1] }) as Selector;
    expect(() => selectorVerdict(forged)).toThrow(TypeError);
  });
});

describe('jhash seeds', () => {
  it('always renders a seed, so the hash stays the same across reloads', () => {
    expect(nft.jhash(['ip saddr'], 4).text).toBe('jhash ip saddr mod 4 seed 0x0');
  });
});
