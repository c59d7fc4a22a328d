// Dual stack with real packets: IPv6 TCP and UDP balanced over a masquerading link (isp1, its
// gateway learned from the main table) and an NPTv6 link (isp2, a link-local gateway), IPv4
// balanced alongside; a prefix isp2's ISP routes to the router (a DMZ) never balanced; an IPv6
// connection kept across a reload; link-local IPv6 never marked; `down` clean in both families.
// Every address is ULA or 2001:db8::/32 inside the lab's namespaces.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { configFor, DMZ6_HOST, DMZ6_PREFIX, GATEWAY6_LINK_LOCAL, LAN6_PREFIX, type Lab, type TrafficServer } from '@mwan/lab';
import { createLab, leftovers, splitBySnat } from './helpers.js';
import { WatchProcess } from './watch-process.js';

jest.setTimeout(120_000);

const PREFIX = 'mwe2eipv6';

describe('IPv6 dual stack', () => {
  let lab: Lab;
  let server: TrafficServer;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2, ipv6: true });
    server = await lab.startServer();
  }, 60_000);

  afterEach(async () => {
    await lab.mwan(['down']);
    await lab.flushConntrack();
    server.clear();
  });

  afterAll(async () => {
    server?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  /** Both links dual stack: isp1 masquerades (gateway learned), isp2 translates the LAN prefix (NPTv6) and has a DMZ. */
  const dualStack = (extra: Record<string, unknown> = {}) => {
    const base = configFor(lab.links, { strategy: 'round-robin', snat: 'masquerade' });
    return {
      ...base,
      lan6: LAN6_PREFIX,
      links: base.links.map((link, i) => ({
        ...link,
        ipv6: i === 0 ? { gateway: 'auto' } : { gateway: GATEWAY6_LINK_LOCAL, snat: lab.links[1].nptPrefix6, routed: [DMZ6_PREFIX] },
      })),
      ...extra,
    };
  };
  const apply = async (config: unknown, name = 'ipv6.json') => lab.mwanOk(['apply', '--config', await lab.writeConfig(config, name)]);

  /** mwan's rules and routes in one family: what `ip -6 rule` / `ip -6 route` hold with proto 109. */
  async function owned(family: '-4' | '-6'): Promise<{ rules: string[]; routes: string[] }> {
    const rules = (await lab.exec('router', 'ip', [family, 'rule', 'show'])).stdout.split('\n').filter((l) => l.includes('proto 109'));
    const routes = (await lab.exec('router', 'ip', [family, 'route', 'show', 'table', 'all', 'proto', '109'])).stdout.split('\n').filter(Boolean);
    return { rules, routes };
  }

  it('balances IPv6 TCP and UDP over a masquerading and an NPTv6 link, and IPv4 alongside', async () => {
    await apply(dualStack());
    const [a, b] = lab.links;
    const six = await owned('-6');
    // The learned gateway of isp1 is the main table's IPv6 default route; isp2's is link-local.
    expect(six.routes.sort()).toEqual([
      `default via ${a.gateway6} dev ${a.routerInterface} table 1001 metric 1024 pref medium`,
      `default via ${GATEWAY6_LINK_LOCAL} dev ${b.routerInterface} table 1002 metric 1024 pref medium`,
    ]);
    expect(six.rules).toHaveLength(4);

    const tcp = await lab.connect({ from: lab.lanAddress6, to: lab.serverAddress6, count: 20 });
    const udp = await lab.connect({ proto: 'udp', from: lab.lanAddress6, to: lab.serverAddress6, count: 10 });
    expect([...tcp, ...udp].filter((r) => !r.ok)).toEqual([]);
    const sources = [...tcp, ...udp].map((r) => r.seen!.src);
    console.log(`IPv6 sources the server saw: ${JSON.stringify([...new Set(sources)])}`);
    // isp1: its own address; isp2: the LAN host's address with isp2's prefix (NPTv6 keeps the host part).
    expect(new Set(sources)).toEqual(new Set([a.routerAddress6, lab.lanAddress6.replace('fd00:157::', b.nptPrefix6!.replace('/64', ''))]));
    expect(splitBySnat(lab, tcp.map((r) => r.seen?.src))).toEqual({ isp1: 10, isp2: 10 });
    expect(splitBySnat(lab, udp.map((r) => r.seen?.src))).toEqual({ isp1: 5, isp2: 5 });

    const four = await lab.connect({ count: 20 });
    expect(four.filter((r) => !r.ok)).toEqual([]);
    expect(splitBySnat(lab, four.map((r) => r.seen?.src))).toEqual({ isp1: 10, isp2: 10 });

    // Each IPv6 connection carries its link's mark in conntrack, as IPv4 ones do.
    const entries = (await lab.conntrack()).filter((e) => e.original.src === lab.lanAddress6 && e.original.dst === lab.serverAddress6);
    expect(entries.length).toBeGreaterThanOrEqual(30);
    expect(new Set(entries.map((e) => e.mark & 0xff))).toEqual(new Set([1, 2]));
  });

  it('never balances or translates the prefix the ISP routes to the router', async () => {
    await apply(dualStack());
    const results = await lab.connect({ from: lab.dmzAddress6, to: lab.serverAddress6, count: 12 });
    const udp = await lab.connect({ proto: 'udp', from: lab.dmzAddress6, to: lab.serverAddress6, count: 6 });
    expect([...results, ...udp].filter((r) => !r.ok)).toEqual([]);
    // Untranslated: through isp1 it would have been masqueraded to isp1's address.
    expect(new Set([...results, ...udp].map((r) => r.seen!.src))).toEqual(new Set([DMZ6_HOST]));
    const marks = (await lab.conntrack()).filter((e) => e.original.src === DMZ6_HOST).map((e) => e.mark & 0xff);
    expect(marks.length).toBeGreaterThanOrEqual(18);
    expect(new Set(marks)).toEqual(new Set([2]));
  });

  it('keeps an IPv6 connection on its link across a reload that changes the strategy and weights', async () => {
    await apply(dualStack());
    const held = await lab.openLongLived({ from: lab.lanAddress6, to: lab.serverAddress6 });
    try {
      const before = await held.ping();
      for (const strategy of ['weighted', 'source-hash', 'round-robin']) {
        const config = dualStack({ strategy });
        config.links = config.links.map((l, i) => ({ ...l, weight: i === 0 ? 1 : 3 }));
        await apply(config);
        const reply = await held.ping();
        expect([reply.src, reply.sport]).toEqual([before.src, before.sport]);
      }
      const lan = (await lab.exec('router', 'nft', ['list', 'chain', 'inet', 'mwan', 'lan'])).stdout;
      expect(lan).toContain('meta nfproto ipv6 numgen inc mod 2');
    } finally {
      held.close();
    }
  });

  it('never marks link-local IPv6, even with the router\'s own traffic balanced', async () => {
    await apply(dualStack({ routerTraffic: 'balance' }));
    const [a] = lab.links;
    await lab.exec('router', 'ping', ['-6', '-n', '-c', '2', '-W', '2', `${GATEWAY6_LINK_LOCAL}%${a.routerInterface}`]);
    await lab.exec('router', 'ping', ['-6', '-n', '-c', '1', '-W', '2', lab.serverAddress6]);
    const icmp6 = (await lab.conntrack()).filter((e) => e.proto === 'icmpv6');
    const linkLocal = icmp6.filter((e) => e.original.dst === GATEWAY6_LINK_LOCAL);
    const global = icmp6.filter((e) => e.original.dst === lab.serverAddress6);
    expect(linkLocal.length).toBeGreaterThanOrEqual(1);
    expect(linkLocal.map((e) => e.mark)).toEqual(linkLocal.map(() => 0));
    // The same router traffic to a global address is given a link: the exception is link-local only.
    expect(global).toHaveLength(1);
    expect([1, 2]).toContain(global[0].mark & 0xff);
  });

  it('fails over only IPv6 when a link\'s IPv6 breaks and its IPv4 works, with mwan watch', async () => {
    const config = await lab.writeConfig(dualStack({ health: { targets: [lab.serverAddress, lab.serverAddress6] } }), 'watch6.json');
    const [a] = lab.links;
    const watch = new WatchProcess(lab, config);
    try {
      await watch.waitFor(/^watching /);
      await watch.waitFor(/^active links: isp1, isp2, isp1:ipv6, isp2:ipv6$/);
      // The far end of link 1 stops answering IPv6 (neighbour discovery included); IPv4 goes on.
      await lab.exec('srv', 'nft', ['-f', '-'], { input: `table inet v6dead {\n\tchain in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\tiifname "${a.serverInterface}" meta nfproto ipv6 drop\n\t}\n}\n` });
      const broke = Date.now();
      const switched = await watch.waitFor(/^active links: isp1, isp2, isp2:ipv6 \(was isp1, isp2, isp1:ipv6, isp2:ipv6\)$/, 10_000, broke);
      console.log(`IPv6 of isp1 failed over ${switched.at - broke} ms after it broke`);
      expect(watch.text).not.toMatch(/^link isp1 down/m);

      const six = await lab.connect({ from: lab.lanAddress6, to: lab.serverAddress6, count: 10, timeoutMs: 2000 });
      expect(six.filter((r) => !r.ok)).toEqual([]);
      expect(splitBySnat(lab, six.map((r) => r.seen?.src))).toEqual({ isp1: 0, isp2: 10 });
      const four = await lab.connect({ count: 10 });
      expect(four.filter((r) => !r.ok)).toEqual([]);
      expect(splitBySnat(lab, four.map((r) => r.seen?.src))).toEqual({ isp1: 5, isp2: 5 });

      // Both families in status: the IPv6 side of isp1 down, isp1 itself up.
      const status = JSON.parse((await lab.mwanOk(['status', '--json'])).stdout) as { health: { links: { name: string; state: string }[] } };
      const states = Object.fromEntries(status.health.links.map((l) => [l.name, l.state]));
      expect(states).toEqual({ isp1: 'up', 'isp1:ipv6': 'down', isp2: 'up', 'isp2:ipv6': 'up' });
    } finally {
      await lab.exec('srv', 'nft', ['delete', 'table', 'inet', 'v6dead'], { reject: false });
      await watch.stop();
    }
  });

  it('removes everything of both families with down, and leaves IPv6 to the main table', async () => {
    await apply(dualStack());
    expect((await owned('-6')).rules.length).toBeGreaterThan(0);
    expect((await owned('-4')).rules.length).toBeGreaterThan(0);
    await lab.mwanOk(['down']);
    expect(await owned('-6')).toEqual({ rules: [], routes: [] });
    expect(await owned('-4')).toEqual({ rules: [], routes: [] });
    const table = await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'], { reject: false });
    expect(table.exitCode).not.toBe(0);
    // The lab's own IPv6 default route (not mwan's) is still there.
    const main = (await lab.exec('router', 'ip', ['-6', 'route', 'show', 'default'])).stdout;
    expect(main).toContain(`via ${lab.links[0].gateway6}`);
  });
});
