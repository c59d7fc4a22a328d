// A connection keeps its link across re-applies: the mark it got is saved in conntrack and
// restored on every later packet, whatever strategy the new table uses.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Lab } from '@mwan/lab';
import { createLab, leftovers, linkMarks } from './helpers.js';

// Namespaces, real traffic and several CLI runs per test (testTimeout in a jest project entry is not applied).
jest.setTimeout(120_000);

const PREFIX = 'mwe2ere';
const STRATEGIES = ['round-robin', 'weighted', 'source-hash'] as const;

describe('re-applying under a live connection', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2 });
    await lab.startServer();
  });

  afterAll(async () => {
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  it('a long-lived TCP connection keeps its link and keeps working across 10 applies alternating strategies', async () => {
    const config = await lab.configFor({ strategy: { name: 'weighted', options: { mode: 'inc' } }, weights: [1, 3] });
    await lab.mwanOk(['apply', '--config', config]);
    const held = await lab.openLongLived();
    try {
      const link = lab.linkBySnatAddress(held.seen.src);
      expect(link).toBeDefined();
      const marks = await linkMarks(lab);
      const entryOf = async () => {
        const entries = (await lab.conntrack()).filter((e) => e.proto === 'tcp' && e.original.sport === held.local.port && e.original.dport === 7001);
        expect(entries).toHaveLength(1);
        return entries[0];
      };
      const first = await entryOf();
      expect(first.mark).toBe(marks[link!.name]);
      expect(first.state).toBe('ESTABLISHED');

      for (let i = 0; i < 10; i++) {
        const strategy = STRATEGIES[i % STRATEGIES.length];
        await lab.mwanOk(['apply', '--config', config, '--strategy', strategy]);
        const ruleset = (await lab.exec('router', 'nft', ['list', 'chain', 'inet', 'mwan', 'lan'])).stdout;
        expect(ruleset).toContain(`comment "mwan: strategy ${strategy}"`);

        // Same connection, same link, still answering.
        const reply = await held.ping();
        expect([reply.src, reply.sport]).toEqual([held.seen.src, held.seen.sport]);
        const entry = await entryOf();
        expect([entry.mark, entry.reply.dst, entry.state]).toEqual([first.mark, first.reply.dst, 'ESTABLISHED']);

        // And new connections are balanced by the new table.
        const fresh = await lab.connect({ count: 4 });
        expect(fresh.filter((r) => !r.ok)).toEqual([]);
        if (strategy === 'round-robin') expect(new Set(fresh.map((r) => r.seen!.src)).size).toBe(2);
      }
    } finally {
      held.close();
    }
  });
});
