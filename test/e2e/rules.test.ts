// Policy rules with real traffic: each action (links, exclude, strategy, fallback any/none,
// sticky) through the CLI in the lab router, counted by what the server saw, conntrack marks and
// nft counters. The health-aware ones run `mwan watch` and black-hole link 2 at its far end.
// Link 1 holds the main table's default route. Every address used lives in the lab's namespaces.
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { configFor, type ConnectResult, type Lab, type TrafficServer } from '@mwan/lab';
import { createLab, freshRouter, leftovers, pollUntil, splitBySnat } from './helpers.js';
import { WatchProcess } from './watch-process.js';

jest.setTimeout(120_000);

const PREFIX = 'mwe2erules';
const BLACKHOLE = 'mwrules_blackhole';

describe('policy rules (mwan apply and mwan watch in the lab router)', () => {
  let lab: Lab;
  let server: TrafficServer;
  let sip: TrafficServer;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2, lanAddresses: 4, serverAddresses: 2 });
    server = await lab.startServer();
    sip = await lab.startServer({ port: 5060 });
    await lab.exec('srv', 'nft', ['-f', '-'], {
      input: `table inet ${BLACKHOLE} {\n\tset dead { type ifname; }\n\tchain in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\tiifname @dead drop\n\t}\n}\n`,
    });
  }, 60_000);

  beforeEach(async () => {
    await lab.exec('srv', 'nft', ['flush', 'set', 'inet', BLACKHOLE, 'dead']);
    await freshRouter(lab, server);
    sip.clear();
  });

  afterAll(async () => {
    server?.stop();
    sip?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  const [a, b] = [0, 1];
  const apply = async (rules: unknown[], extra: Record<string, unknown> = {}, file = 'rules.json') => {
    const config = await lab.writeConfig({ ...configFor(lab.links, { strategy: 'round-robin' }), rules, ...extra }, file);
    await lab.mwanOk(['apply', '--config', config]);
    return config;
  };
  const linksOf = (results: ConnectResult[]) => {
    expect(results.filter((r) => !r.ok)).toEqual([]);
    return splitBySnat(lab, results.map((r) => r.seen?.src));
  };
  /** The link each connection left by, in order. */
  const linkNames = (results: ConnectResult[]) => results.map((r) => (r.ok ? lab.linkBySnatAddress(r.seen!.src)?.name : r.error));
  const counters = async () => Object.fromEntries(Object.entries(await lab.nftCounters()).map(([name, v]) => [name, v.packets]));
  const blackhole = (on: boolean, index = b) => lab.exec('srv', 'nft', [on ? 'add' : 'delete', 'element', 'inet', BLACKHOLE, 'dead', `{ "${lab.links[index].serverInterface}" }`]);
  const setElements = async (name: string) => {
    const result = await lab.exec('router', 'nft', ['-j', 'list', 'set', 'inet', 'mwan', name], { reject: false });
    if (result.exitCode !== 0) return undefined;
    const set = (JSON.parse(result.stdout) as { nftables: { set?: { elem?: ({ elem: { val: string; expires: number } } | string)[] } }[] }).nftables.find((i) => i.set)?.set;
    return (set?.elem ?? []).map((e) => (typeof e === 'string' ? { val: e, expires: -1 } : e.elem));
  };
  const watchConfig = async (rules: unknown[]) => lab.writeConfig({
    ...configFor(lab.links, { strategy: 'round-robin' }),
    health: { targets: [lab.serverAddress], interval: 0.3, timeout: 0.2 },
    rules,
  }, 'watch-rules.json');

  it('links: UDP 5060 is pinned to link 2 while everything else is balanced; the rule counts its connections', async () => {
    await apply([{ name: 'voip', match: { protocol: 'udp', port: 5060 }, links: [lab.links[b].name] }]);
    expect(linksOf(await lab.connect({ proto: 'udp', port: 5060, count: 20 }))).toEqual({ isp1: 0, isp2: 20 });
    expect(sip.records()).toHaveLength(20);
    expect(linksOf(await lab.connect({ proto: 'udp', count: 20 }))).toEqual({ isp1: 10, isp2: 10 });
    expect(linksOf(await lab.connect({ proto: 'tcp', count: 20 }))).toEqual({ isp1: 10, isp2: 10 });
    const c = await counters();
    expect(c['rule.voip']).toBe(20);
    expect(c.isp2).toBe(40);
    const marks = (await lab.conntrack()).filter((e) => e.proto === 'udp' && e.original.dport === 5060).map((e) => e.mark & 0xff);
    expect(new Set(marks)).toEqual(new Set([2]));
    // What mwan metrics reports: the rule's counter by name.
    const metrics = await lab.mwanOk(['metrics']);
    expect(metrics.stdout).toContain('mwan_rule_new_connections_total{rule="voip"} 20');
  });

  it('exclude: the main table routes it (link 1), it is still NATed by that link, and it gets no mark', async () => {
    const excluded = lab.serverAddresses[1];
    await apply([
      { name: 'vpn', match: { destination: `${excluded}/32` }, exclude: true },
      { name: 'rest', match: {}, links: [lab.links[b].name] },
    ]);
    expect(linksOf(await lab.connect({ count: 20, to: excluded }))).toEqual({ isp1: 20, isp2: 0 });
    expect(linksOf(await lab.connect({ proto: 'udp', count: 10, to: excluded }))).toEqual({ isp1: 10, isp2: 0 });
    // Seen from link 1's own address: NATed, not the LAN address.
    expect(new Set(server.records().filter((r) => r.dst === excluded).map((r) => r.src))).toEqual(new Set([lab.links[a].routerAddress]));
    expect(linksOf(await lab.connect({ count: 20, to: lab.serverAddresses[0] }))).toEqual({ isp1: 0, isp2: 20 });
    const entries = (await lab.conntrack()).filter((e) => e.original.dst === excluded);
    expect(entries.length).toBeGreaterThanOrEqual(30);
    expect(new Set(entries.map((e) => e.mark & 0xff))).toEqual(new Set([0]));
    const c = await counters();
    expect([c['rule.vpn'], c['rule.rest']]).toEqual([30, 20]);
  });

  it('strategy: one destination is hashed by source while the rest goes round-robin', async () => {
    const hashed = lab.serverAddresses[1];
    await apply([{ name: 'hashed', match: { destination: hashed }, strategy: 'source-hash' }]);
    const results = await lab.connect({ count: 40, to: hashed, from: lab.lanAddresses, concurrency: 1 });
    const bySource = new Map<string, Set<string | undefined>>();
    results.forEach((r, i) => bySource.set(r.src, (bySource.get(r.src) ?? new Set()).add(linkNames(results)[i])));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(bySource.size).toBe(lab.lanAddresses.length);
    expect([...bySource.values()].map((s) => s.size)).toEqual(lab.lanAddresses.map(() => 1));
    // The global round-robin, from one source: alternating.
    expect(linkNames(await lab.connect({ count: 6, to: lab.serverAddresses[0], concurrency: 1 }))).toEqual(['isp1', 'isp2', 'isp1', 'isp2', 'isp1', 'isp2']);
  });

  it('sticky: each source keeps the link of its last matching connection, until the time runs out after it', async () => {
    await apply([{ name: 'bank', match: { protocol: 'tcp', port: 7000 }, sticky: 2 }]);
    const [s0, s1] = lab.lanAddresses;
    // Round-robin gives first connections isp1, isp2, isp1, isp2; each source then stays.
    const first = await lab.connect({ count: 16, from: lab.lanAddresses.slice(0, 4), concurrency: 1 });
    expect(linkNames(first)).toEqual(Array(4).fill(['isp1', 'isp2', 'isp1', 'isp2']).flat());
    expect((await setElements('sticky.bank.isp2'))?.map((e) => e.val).sort()).toEqual([lab.lanAddresses[1], lab.lanAddresses[3]].sort());
    // Without the rule the same source alternates (UDP is not matched).
    expect(linkNames(await lab.connect({ proto: 'udp', count: 4, from: s1, concurrency: 1 }))).toEqual(['isp1', 'isp2', 'isp1', 'isp2']);
    // Every connection starts the time again: one every second for 3 s (past the 2 s) stays on isp2.
    const kept: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      kept.push(...linkNames(await lab.connect({ from: s1 })));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(kept).toEqual(['isp2', 'isp2', 'isp2', 'isp2']);
    // Then nothing from s1 for the 2 s: its entry times out, and its next connection is balanced
    // again (the round-robin's fifth pick, isp1).
    await pollUntil(async () => ((await setElements('sticky.bank.isp2'))?.some((e) => e.val === s1) ? undefined : true), 'the sticky entry of s1 timing out', 5000, 100);
    expect(linkNames(await lab.connect({ from: s1 }))).toEqual(['isp1']);
    // s0 made no connection for longer still: balanced again too, the sixth pick.
    expect(linkNames(await lab.connect({ from: s0 }))).toEqual(['isp2']);
  });

  it('sticky: a source keeps its link across a reload of the table', async () => {
    await apply([{ name: 'bank', match: { protocol: 'tcp', port: 7000 }, sticky: 600 }]);
    expect(linkNames(await lab.connect({ count: 4, from: lab.lanAddresses.slice(0, 4), concurrency: 1 }))).toEqual(['isp1', 'isp2', 'isp1', 'isp2']);
    const before = await setElements('sticky.bank.isp2');
    // Another config: the table is swapped, and its round-robin starts again at isp1.
    const reload = await lab.mwanOk(['apply', '--config', await lab.writeConfig({ ...configFor(lab.links, { strategy: 'round-robin', weights: [1, 1] }), rules: [{ name: 'bank', match: { protocol: 'tcp', port: 7000 }, sticky: 600 }], inbound: false }, 'rules-2.json')]);
    expect(reload.stdout).toContain('table inet mwan loaded');
    const after = await setElements('sticky.bank.isp2');
    expect(after?.map((e) => e.val).sort()).toEqual(before?.map((e) => e.val).sort());
    // The time left went on, not back to 600 s.
    for (const e of after ?? []) expect(e.expires).toBeLessThanOrEqual(600);
    const [s0, s1, s2, s3, s4] = lab.lanAddresses;
    expect(linkNames(await lab.connect({ count: 4, from: [s1, s3, s0, s2], concurrency: 1 }))).toEqual(['isp2', 'isp2', 'isp1', 'isp1']);
    // A source new to the rule gets the new table's first pick, isp1: what s1 would have got had
    // its entry not been carried.
    expect(linkNames(await lab.connect({ from: s4 }))).toEqual(['isp1']);
  });

  it('with mwan watch: a link going down sends its pinned traffic elsewhere (fallback any), refuses it at once (fallback none), and releases its sticky sources', async () => {
    const strictTo = lab.serverAddresses[1];
    const config = await watchConfig([
      { name: 'strict', match: { destination: strictTo, protocol: ['tcp', 'udp'] }, links: [lab.links[b].name], fallback: 'none' },
      { name: 'loose', match: { protocol: 'udp', port: 5060 }, links: [lab.links[b].name] },
      { name: 'bank', match: { protocol: 'tcp', port: 7000 }, sticky: 600 },
    ]);
    // Replies to the LAN's ICMP errors are counted where the client is.
    await lab.exec('lan', 'nft', ['-f', '-'], {
      input: 'table inet mwrules_seen {\n\tcounter prohibited {\n\t}\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n\t\ticmp type destination-unreachable icmp code admin-prohibited counter name "prohibited"\n\t}\n}\n',
    });
    const watch = new WatchProcess(lab, config);
    try {
      await watch.waitFor(/^watching /);
      const [s0, s1, s2, s3] = lab.lanAddresses;
      expect(linkNames(await lab.connect({ count: 4, from: [s0, s1, s2, s3], concurrency: 1 }))).toEqual(['isp1', 'isp2', 'isp1', 'isp2']);
      expect(linksOf(await lab.connect({ count: 6, to: strictTo }))).toEqual({ isp1: 0, isp2: 6 });
      expect(linksOf(await lab.connect({ proto: 'udp', port: 5060, count: 6 }))).toEqual({ isp1: 0, isp2: 6 });

      const down = Date.now();
      await blackhole(true);
      await watch.waitFor(/^active links: isp1 \(was isp1, isp2\)$/, 10_000, down);
      // fallback none: a TCP connection is reset at once, a UDP flow gets admin-prohibited back; none reaches the server.
      server.clear();
      const refused = await lab.connect({ count: 5, to: strictTo, timeoutMs: 3000 });
      expect(refused.map((r) => r.error)).toEqual(Array(5).fill('ECONNREFUSED'));
      for (const r of refused) expect(r.ms).toBeLessThan(1000);
      const udp = await lab.connect({ proto: 'udp', count: 3, to: strictTo, timeoutMs: 1000 });
      expect(udp.filter((r) => r.ok)).toEqual([]);
      const prohibited = (JSON.parse((await lab.exec('lan', 'nft', ['-j', 'list', 'counter', 'inet', 'mwrules_seen', 'prohibited'])).stdout) as { nftables: { counter?: { packets: number } }[] }).nftables.find((i) => i.counter)?.counter?.packets;
      expect(prohibited).toBeGreaterThanOrEqual(3);
      expect(server.records().filter((r) => r.dst === strictTo)).toEqual([]);
      // fallback any: the other healthy link.
      expect(linksOf(await lab.connect({ proto: 'udp', port: 5060, count: 6 }))).toEqual({ isp1: 6, isp2: 0 });
      // Sticky: link 2's sources are released (its set is gone); s1 now sticks to isp1.
      expect(await setElements('sticky.bank.isp2')).toBeUndefined();
      expect(linkNames(await lab.connect({ from: s1 }))).toEqual(['isp1']);

      const up = Date.now();
      await blackhole(false);
      await watch.waitFor(/^active links: isp1, isp2 \(was isp1\)$/, 15_000, up);
      // s3 was released and is balanced afresh (the new table's first pick, isp1); s1 keeps isp1, its last link.
      expect(linkNames(await lab.connect({ count: 2, from: [s3, s1], concurrency: 1 }))).toEqual(['isp1', 'isp1']);
      expect(linksOf(await lab.connect({ count: 4, to: strictTo }))).toEqual({ isp1: 0, isp2: 4 });
      expect(linksOf(await lab.connect({ proto: 'udp', port: 5060, count: 4 }))).toEqual({ isp1: 0, isp2: 4 });
    } finally {
      await watch.stop();
      await lab.exec('lan', 'nft', ['delete', 'table', 'inet', 'mwrules_seen'], { reject: false });
    }
  });
});
