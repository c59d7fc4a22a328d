import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { buildModel, render, type Config, type Strategy } from '@mwan/core';
import destHash from '@mwan/strategy-dest-hash';
import roundRobin from '@mwan/strategy-round-robin';
import sourceHash from '@mwan/strategy-source-hash';
import weighted from '@mwan/strategy-weighted';

const configWith = (weights: number[], strategy: Config['strategy']): Config => ({
  lan: ['eth0'],
  links: weights.map((weight, i) => ({ name: `isp${i + 1}`, interface: `wan${i + 1}`, gateway: `10.37.${i + 1}.1`, weight })),
  strategy,
});

/** Reads `... mod N vmap { a-b : goto pick_LINK, ... }` back into slots per link, to check what it yields. */
function slotsPerLink(selectorLine: string): { expr: string; modulus: number; slots: Map<string, number> } {
  const match = /^\s*(.+?) mod (\d+)(?: seed 0x[0-9a-f]+)? vmap \{ (.+) \}/.exec(selectorLine);
  if (!match) throw new Error(`not a map selector: ${selectorLine}`);
  const slots = new Map<string, number>();
  let next = 0;
  for (const entry of match[3].split(', ')) {
    const [range, verdict] = entry.split(' : ');
    const link = verdict.replace(/^goto pick_/, '');
    const [from, to = from] = range.split('-').map(Number);
    expect(from).toBe(next);
    next = to + 1;
    slots.set(link, (slots.get(link) ?? 0) + to - from + 1);
  }
  expect(next).toBe(Number(match[2]));
  return { expr: match[1], modulus: Number(match[2]), slots };
}

const selectorLine = (nft: string) => nft.split('\n').find((l) => l.includes('mwan: strategy')) ?? '';

const cases: [Strategy<unknown>, Record<string, unknown>, string][] = [
  [roundRobin, {}, 'numgen inc'],
  [weighted, { mode: 'random' }, 'numgen random'],
  [weighted, { mode: 'inc' }, 'numgen inc'],
  [sourceHash, { seed: 7 }, 'jhash ip saddr'],
  [destHash, {}, 'jhash ip daddr'],
];
const weightSets = [[1], [1, 3], [2, 3, 5], Array.from({ length: 64 }, (_, i) => (i % 7) + 1)];

describe.each(cases)('%o strategy', (strategy, options, expr) => {
  it.each(weightSets.map((w): [number, number[]] => [w.length, w]))('renders a well-formed selector for %i link(s)', async (_, weights) => {
    const model = buildModel(configWith(weights, { name: strategy.name, options }));
    const { nft } = render(model, strategy);
    const line = selectorLine(nft);
    if (weights.length === 1) {
      expect(line).toMatch(/^\s*goto pick_isp1 comment/);
    } else {
      const { expr: got, slots } = slotsPerLink(line);
      expect(got).toBe(expr);
      const share = (i: number) => slots.get(model.links[i].name) ?? 0;
      if (strategy.name === 'round-robin') {
        weights.forEach((_, i) => expect(share(i)).toBe(1));
      } else {
        // Each link's slots are proportional to its weight.
        const ratio = share(0) / weights[0];
        weights.forEach((w, i) => expect(share(i)).toBe(w * ratio));
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'mwan-strategy-'));
    writeFileSync(join(dir, 'ruleset.nft'), nft);
    const check = await execa('unshare', ['-rn', 'nft', '-c', '-f', join(dir, 'ruleset.nft')], { reject: false });
    expect(check.stderr).toBe('');
    expect(check.exitCode).toBe(0);
  });
});

describe('built-in strategies', () => {
  it('spread weighted inc picks instead of giving them in blocks', () => {
    const model = buildModel(configWith([1, 3], { name: 'weighted', options: { mode: 'inc' } }));
    expect(selectorLine(render(model, weighted).nft)).toContain('numgen inc mod 4 vmap { 0 : goto pick_isp2, 1 : goto pick_isp1, 2-3 : goto pick_isp2 }');
  });

  it('reject options they do not know', () => {
    const model = buildModel(configWith([1, 1], { name: 'weighted', options: { mode: 'fast' } }));
    expect(() => render(model, weighted)).toThrow('strategy "weighted": options.mode: "fast" must be one of random, inc');
    const rr = buildModel(configWith([1, 1], { name: 'round-robin', options: { mode: 'inc' } }));
    expect(() => render(rr, roundRobin)).toThrow(/strategy "round-robin": options: unexpected property "mode"/);
  });

  it.each([[sourceHash], [destHash]])('%o: a link the health checks take out moves only its own buckets, spread by weight', (strategy) => {
    const model = buildModel(configWith([3, 1, 2, 5], strategy.name));
    /** The link of every bucket, from the rendered `a-b : goto pick_x` entries. */
    const owners = (active?: string[]) => {
      const line = selectorLine(render(model, strategy, active ? { active } : {}).nft);
      expect(slotsPerLink(line).modulus).toBe(4103);
      return [...line.matchAll(/(\d+)(?:-(\d+))? : goto pick_(\w+)/g)].flatMap(([, from, to, link]) => Array.from({ length: Number(to ?? from) - Number(from) + 1 }, () => link));
    };
    const before = owners();
    const after = owners(['isp1', 'isp3', 'isp4']);
    expect(after).toHaveLength(4103);
    expect(before.filter((link, b) => link !== after[b]).every((link) => link === 'isp2')).toBe(true);
    // isp2's 373 buckets, 3:2:5 by the largest remainder (111.9, 74.6, 186.5).
    const gained = (name: string) => before.filter((link, b) => link === 'isp2' && after[b] === name).length;
    expect(['isp1', 'isp3', 'isp4'].map(gained)).toEqual([112, 75, 186]);
  });
});
