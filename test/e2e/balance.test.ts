// Balancing through the real CLI: real connections from the LAN namespace, counted three ways
// (what the server saw, mwan's nft counters, the router's conntrack marks).
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { chiSquare, CHI2_DF1_P001, type ConnectResult, type Lab, type TrafficServer } from '@mwan/lab';
import { createLab, freshRouter, leftovers, linkMarks, splitBySnat } from './helpers.js';

// Namespaces, real traffic and several CLI runs per test (testTimeout in a jest project entry is not applied).
jest.setTimeout(120_000);

const PREFIX = 'mwe2ebal';

describe('balancing (mwan apply in the lab router)', () => {
  let lab: Lab;
  let server: TrafficServer;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2, lanAddresses: 19 });
    server = await lab.startServer();
  });

  afterAll(async () => {
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  // Each test starts from no mwan state and no tracked connection, so every count is its own.
  beforeEach(() => freshRouter(lab, server));

  const apply = async (config: string) => lab.mwanOk(['apply', '--config', config]);

  /** Everything succeeded, and the server saw exactly what each client was told. */
  function expectAllOk(results: ConnectResult[], count: number): void {
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(count);
  }

  /** Per link: [server saw, nft counter, conntrack entries of our flows with its mark and its address]. */
  async function threeWays(proto: 'tcp' | 'udp' | 'both'): Promise<Record<string, [number, number, number]>> {
    const records = server.records().filter((r) => proto === 'both' || r.kind === proto);
    const seen = splitBySnat(lab, records.map((r) => r.src));
    const counters = await lab.nftCounters();
    const marks = await linkMarks(lab);
    const entries = (await lab.conntrack()).filter(
      (e) => lab.lanAddresses.includes(e.original.src) && e.original.dst === lab.serverAddress && (proto === 'both' || e.proto === proto),
    );
    return Object.fromEntries(
      lab.links.map((link) => [
        link.name,
        [
          seen[link.name],
          lab.counterOf(link, counters)?.packets ?? -1,
          entries.filter((e) => e.mark === marks[link.name] && e.reply.dst === link.routerAddress).length,
        ],
      ]),
    );
  }

  it('round-robin: 100 TCP connections and 100 UDP flows all succeed, split exactly 50/50, SNAT and masquerade both seen', async () => {
    await apply(await lab.configFor({ strategy: 'round-robin', snat: ['address', 'masquerade'] }));

    const tcp = await lab.connect({ proto: 'tcp', count: 100 });
    expectAllOk(tcp, 100);
    expect(new Set(tcp.map((r) => r.local?.port)).size).toBe(100);
    expect(await threeWays('tcp')).toEqual({ isp1: [50, 50, 50], isp2: [50, 50, 50] });

    const udp = await lab.connect({ proto: 'udp', count: 100 });
    expectAllOk(udp, 100);
    expect(new Set(udp.map((r) => r.local?.port)).size).toBe(100);
    // Counters count new connections of both protocols since the table was loaded.
    const both = await threeWays('both');
    expect(both).toEqual({ isp1: [100, 100, 100], isp2: [100, 100, 100] });
    expect(await threeWays('udp')).toEqual({ isp1: [50, 100, 50], isp2: [50, 100, 50] });

    // The server saw each link's own address: 10.37.1.253 by explicit snat, 10.37.2.253 by masquerade.
    expect(new Set(server.records().map((r) => r.src))).toEqual(new Set(['10.37.1.253', '10.37.2.253']));
    const rules = (await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'])).stdout;
    expect(rules).toContain('snat ip to 10.37.1.253');
    expect(rules).toContain('masquerade');
  });

  it('weighted 1:3 with mode inc: exactly 25/75 of 100 connections', async () => {
    await apply(await lab.configFor({ strategy: { name: 'weighted', options: { mode: 'inc' } }, weights: [1, 3] }));
    expectAllOk(await lab.connect({ proto: 'tcp', count: 100 }), 100);
    expect(await threeWays('tcp')).toEqual({ isp1: [25, 25, 25], isp2: [75, 75, 75] });
  });

  it('weighted 1:3 with mode random: the split passes a χ² test against 1:3', async () => {
    await apply(await lab.configFor({ strategy: { name: 'weighted', options: { mode: 'random' } }, weights: [1, 3] }));
    const n = 400;
    expectAllOk(await lab.connect({ proto: 'tcp', count: n, concurrency: 32 }), n);
    const ways = await threeWays('tcp');
    const observed = [ways.isp1[0], ways.isp2[0]];
    // The three views agree before the statistics are looked at.
    expect(ways.isp1).toEqual([observed[0], observed[0], observed[0]]);
    expect(ways.isp2).toEqual([observed[1], observed[1], observed[1]]);
    const chi2 = chiSquare(observed, [1, 3]);
    expect(chi2).toBeLessThan(CHI2_DF1_P001);
  });

  it('source-hash: each of 20 LAN addresses keeps one link over 10 connections, and both links are used', async () => {
    await apply(await lab.configFor({ strategy: 'source-hash' }));
    expect(lab.lanAddresses).toHaveLength(20);
    // Connection i comes from address i % 20: ten rounds over all addresses.
    const results = await lab.connect({ proto: 'tcp', count: 200, from: lab.lanAddresses });
    expectAllOk(results, 200);
    const linksOf = new Map<string, Set<string>>();
    for (const r of results) {
      const set = linksOf.get(r.src) ?? new Set<string>();
      set.add(lab.linkBySnatAddress(r.seen!.src)!.name);
      linksOf.set(r.src, set);
    }
    expect([...linksOf.keys()].sort()).toEqual([...lab.lanAddresses].sort());
    expect([...linksOf.entries()].filter(([, set]) => set.size !== 1)).toEqual([]);
    const used = new Set([...linksOf.values()].map((set) => [...set][0]));
    expect(used).toEqual(new Set(['isp1', 'isp2']));
    const ways = await threeWays('tcp');
    expect(ways.isp1[0] + ways.isp2[0]).toBe(200);
    for (const link of lab.links) expect(new Set(ways[link.name]).size).toBe(1);
  });
});

describe('balancing over many links', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 64 });
    await lab.startServer();
  });

  afterAll(async () => {
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  /** Connections per link index, from the addresses the server saw. */
  const perLink = (results: ConnectResult[]) => {
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const split = splitBySnat(lab, results.map((r) => r.seen?.src));
    return lab.links.map((l) => split[l.name]);
  };

  it('64 links: round-robin gives each exactly 10 of 640, weighted inc 1..64 gives each its weight over one cycle', async () => {
    await lab.mwanOk(['apply', '--config', await lab.configFor({ strategy: 'round-robin' })]);
    expect(perLink(await lab.connect({ count: 640, concurrency: 32 }))).toEqual(Array(64).fill(10));

    // Weight intervals that overlapped or left gaps (start = w instead of start += w) would show here.
    const weights = lab.links.map((l) => l.index);
    await lab.mwanOk(['apply', '--config', await lab.configFor({ strategy: { name: 'weighted', options: { mode: 'inc' } }, weights })]);
    const cycle = weights.reduce((a, b) => a + b, 0);
    expect(perLink(await lab.connect({ count: cycle, concurrency: 64 }))).toEqual(weights);
  });
});
