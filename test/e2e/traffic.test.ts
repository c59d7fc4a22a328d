// Every kind of traffic a router carries besides the LAN's own new connections, with real packets:
// inbound connections (a port forward by someone else's table, a service of the router) answered
// by the link they came in on; the router's own connections through a black-holed default link
// with `mwan watch` running; mark bits of other software before and after mwan, which survive;
// NAT of LAN traffic to a link's own subnet. Link 1 (a) holds the main table's default route.
// Every address used lives in the lab's namespaces.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { configFor, type Lab, type TrafficServer } from '@mwan/lab';
import { WatchProcess } from './watch-process.js';
import { createLab, leftovers, splitBySnat } from './helpers.js';

jest.setTimeout(120_000);

const PREFIX = 'mwe2etraffic';

/** A table of the test's own, by name and text; removed after each test. */
const foreignTables: { role: 'router' | 'srv'; family: string; name: string }[] = [];

describe('traffic other than the LAN\'s new connections', () => {
  let lab: Lab;
  let server: TrafficServer;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2, secondLan: true });
    server = await lab.startServer({ quiet: false });
  }, 60_000);

  afterEach(async () => {
    for (const t of foreignTables.splice(0)) await lab.exec(t.role, 'nft', ['delete', 'table', t.family, t.name], { reject: false });
    await lab.mwan(['down']);
    await lab.flushConntrack();
  });

  afterAll(async () => {
    server?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  async function addTable(role: 'router' | 'srv', family: string, name: string, body: string): Promise<void> {
    await lab.exec(role, 'nft', ['-f', '-'], { input: `table ${family} ${name} {\n${body}\n}\n` });
    foreignTables.push({ role, family, name });
  }

  /** Named counters of a table of the test's own, by name. */
  async function counters(role: 'router' | 'srv', family: string, name: string): Promise<Record<string, number>> {
    const { stdout } = await lab.exec(role, 'nft', ['-j', 'list', 'counters', 'table', family, name]);
    const items = (JSON.parse(stdout) as { nftables: { counter?: { name: string; packets: number } }[] }).nftables;
    return Object.fromEntries(items.filter((i) => i.counter).map((i) => [i.counter!.name, i.counter!.packets]));
  }

  /** In the server namespace (the far end of both links): packets from link 2's router address, by the link they arrive on. */
  async function countRepliesFromLink2(): Promise<() => Promise<Record<string, number>>> {
    const b = lab.links[1];
    await addTable('srv', 'inet', 'wirecount', [
      ...lab.links.map((l) => `\tcounter on_${l.name} {\n\t}`),
      '\tchain pre {',
      '\t\ttype filter hook prerouting priority -500; policy accept;',
      ...lab.links.map((l) => `\t\tiifname "${l.serverInterface}" ip saddr ${b.routerAddress} counter name "on_${l.name}"`),
      '\t}',
    ].join('\n'));
    return () => counters('srv', 'inet', 'wirecount');
  }

  const applyWith = async (extra: Record<string, unknown> = {}) => {
    const config = { ...configFor(lab.links, { strategy: 'round-robin' }), ...extra };
    await lab.mwanOk(['apply', '--config', await lab.writeConfig(config, 'traffic.json')]);
  };

  it('answers a port forward on link 2 and a router service reached by link 2\'s address through link 2', async () => {
    const b = lab.links[1];
    // Someone else's port forward: link 2's address, port 8080, to the LAN host's port 7000.
    await addTable('router', 'ip', 'portfwd', `\tchain pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tiifname "${b.routerInterface}" ip daddr ${b.routerAddress} tcp dport 8080 dnat to ${lab.lanAddress}:7000\n\t}`);
    const lanServer = await lab.startServer({ role: 'lan' });
    const routerServer = await lab.startServer({ role: 'router' });
    const wire = await countRepliesFromLink2();
    // From the "internet" (the server namespace's own address), so replies need a route back, not a connected subnet.
    const fromOutside = (port: number) => lab.connect({ role: 'srv', from: lab.serverAddress, to: b.routerAddress, port, count: 12 });
    try {
      await applyWith();
      const forwarded = await fromOutside(8080);
      const served = await fromOutside(7000);
      expect([...forwarded, ...served].filter((r) => !r.ok)).toEqual([]);
      expect(lanServer.records().filter((r) => r.kind === 'tcp')).toHaveLength(12);
      expect(routerServer.records().filter((r) => r.kind === 'tcp' && r.dst === b.routerAddress)).toHaveLength(12);
      const on = await wire();
      console.log(`replies from ${b.routerAddress} by link: ${JSON.stringify(on)}`);
      // SYN-ACK, answer and FIN at least, for each of the 24 connections: all on link 2.
      expect(on.on_isp2).toBeGreaterThanOrEqual(24 * 3);
      expect(on.on_isp1).toBe(0);
      const marks = (await lab.conntrack()).filter((e) => e.original.src === lab.serverAddress).map((e) => e.mark & 0xff);
      expect(marks.length).toBeGreaterThanOrEqual(24);
      expect(new Set(marks)).toEqual(new Set([2]));

      // The same with inbound off: the replies follow the main table's default route, link 1.
      // (This is what the test would see without the feature.)
      await lab.mwan(['down']);
      await lab.flushConntrack();
      await applyWith({ inbound: false });
      await fromOutside(8080);
      await fromOutside(7000);
      const without = await wire();
      expect(without.on_isp1).toBeGreaterThanOrEqual(24 * 3);
    } finally {
      lanServer.stop();
      routerServer.stop();
    }
  });

  it('keeps the router\'s own new connections working through a black-holed default link, with mwan watch', async () => {
    await addTable('srv', 'inet', 'blackhole', '\tset dead {\n\t\ttype ifname;\n\t}\n\tchain in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\tiifname @dead drop\n\t}');
    const config = await lab.writeConfig({ ...configFor(lab.links, {}), health: { targets: [lab.serverAddress] } }, 'watch.json');
    const watch = new WatchProcess(lab, config);
    try {
      await watch.waitFor(/^watching /);
      const a = lab.links[0];
      // What the router's sockets get from the main table: link 1's address.
      const own = () => lab.connect({ role: 'router', from: a.routerAddress, count: 6, concurrency: 1, timeoutMs: 1500 });
      const before = await own();
      expect(before.filter((r) => !r.ok)).toEqual([]);
      expect(new Set(before.map((r) => r.seen?.src))).toEqual(new Set([a.routerAddress]));

      const blackholed = Date.now();
      await lab.exec('srv', 'nft', ['add', 'element', 'inet', 'blackhole', 'dead', `{ "${a.serverInterface}" }`]);
      const switched = await watch.waitFor(/^active links: isp2 \(was isp1, isp2\)$/, 10_000, blackholed);
      const during = await own();
      console.log(`router's own connections: failover ${switched.at - blackholed} ms after the black-hole; ${during.filter((r) => r.ok).length} of 6 ok, sources seen ${JSON.stringify(during.map((r) => r.seen?.src ?? r.error))}`);
      expect(during.filter((r) => !r.ok)).toEqual([]);
      // They left by link 2, NATed to its address.
      expect(splitBySnat(lab, during.map((r) => r.seen?.src))).toEqual({ isp1: 0, isp2: 6 });
      expect(switched.at - blackholed).toBeLessThanOrEqual(3000);

      // A socket with a mark of its own (SO_MARK, as mwan's own probes) is left alone: probes of
      // link 1 keep failing, so it stays down.
      expect(watch.text).not.toMatch(/^link isp1 up/m);
    } finally {
      await watch.stop();
    }
  });

  it('balances the router\'s own connections with routerTraffic "balance", leaving a socket with its own mark alone', async () => {
    await applyWith({ routerTraffic: 'balance' });
    const a = lab.links[0];
    const own = await lab.connect({ role: 'router', from: a.routerAddress, count: 10, concurrency: 1 });
    expect(own.filter((r) => !r.ok)).toEqual([]);
    expect(splitBySnat(lab, own.map((r) => r.seen?.src))).toEqual({ isp1: 5, isp2: 5 });

    // A socket with its own mark (SO_MARK 0x100, outside mwan's mask: `ping -m`) is left alone,
    // and takes the main table's route; the same ping without a mark is given a link.
    const icmp = async () => (await lab.conntrack()).filter((e) => e.proto === 'icmp' && e.original.dst === lab.serverAddress).map((e) => e.mark);
    await lab.exec('router', 'ping', ['-n', '-c', '1', '-W', '2', '-m', '256', lab.serverAddress]);
    expect(await icmp()).toEqual([0]);
    await lab.flushConntrack();
    await lab.exec('router', 'ping', ['-n', '-c', '1', '-W', '2', lab.serverAddress]);
    const marks = await icmp();
    expect(marks).toHaveLength(1);
    expect([1, 2]).toContain(marks[0]);
  });

  it('keeps other software\'s bits of the packet mark and the ct mark, and ignores them when balancing', async () => {
    // A kube-proxy-like table sets 0x4000 in the packet mark before mwan; a QoS-like table ORs
    // 0x10000 into the ct mark after mwan's chain. A counter sees the packets leave by the links.
    await addTable('router', 'inet', 'kubelike', '\tchain pre {\n\t\ttype filter hook prerouting priority mangle - 10; policy accept;\n\t\tiifname "eth0" meta mark set meta mark | 0x4000\n\t}');
    await addTable('router', 'inet', 'qoslike', '\tchain pre {\n\t\ttype filter hook prerouting priority mangle + 10; policy accept;\n\t\tiifname "eth0" ct mark set ct mark | 0x10000\n\t}');
    await addTable('router', 'inet', 'leaving', [
      ...lab.links.map((l) => `\tcounter kube_${l.name} {\n\t}`),
      '\tchain post {',
      '\t\ttype filter hook postrouting priority mangle; policy accept;',
      ...lab.links.map((l, i) => `\t\toifname "${l.routerInterface}" meta mark & 0x4000 == 0x4000 meta mark & 0xff == ${i + 1} counter name "kube_${l.name}"`),
      '\t}',
    ].join('\n'));
    await applyWith();
    const results = await lab.connect({ count: 20, concurrency: 4 });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const split = splitBySnat(lab, results.map((r) => r.seen?.src));
    expect(split).toEqual({ isp1: 10, isp2: 10 });
    const udp = await lab.connect({ proto: 'udp', count: 10 });
    expect(udp.filter((r) => !r.ok)).toEqual([]);

    // A long connection keeps working exchange after exchange, on one link.
    const long = await lab.openLongLived();
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) seen.push((await long.ping()).src);
    long.close();
    expect(new Set(seen).size).toBe(1);

    // The bits survived: in conntrack, the QoS bit next to mwan's link; on the wire, the kube bit.
    const entries = (await lab.conntrack()).filter((e) => e.original.src === lab.lanAddress && e.original.dst === lab.serverAddress);
    expect(entries.length).toBeGreaterThanOrEqual(30);
    const marks = new Set(entries.map((e) => `0x${e.mark.toString(16)}`));
    console.log(`ct marks of LAN connections: ${[...marks].join(', ')}`);
    expect(marks).toEqual(new Set(['0x10001', '0x10002']));
    const leaving = await counters('router', 'inet', 'leaving');
    console.log(`leaving packets with 0x4000 and the link's mark: ${JSON.stringify(leaving)}`);
    expect(leaving.kube_isp1).toBeGreaterThanOrEqual(10 * 3);
    expect(leaving.kube_isp2).toBeGreaterThanOrEqual(10 * 3);
  });

  it('NATs LAN traffic to a link\'s own subnet by the link it leaves through, whatever mark it got', async () => {
    await applyWith();
    const b = lab.links[1];
    // Link 2's gateway is on link 2's connected subnet: the suppress rule sends every connection
    // there straight out of link 2, also the half that round-robin marked for link 1.
    const results = await lab.connect({ to: b.gateway, count: 10 });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(new Set(results.map((r) => r.seen?.src))).toEqual(new Set([b.routerAddress]));
    const marks = (await lab.conntrack()).filter((e) => e.original.dst === b.gateway && e.original.src === lab.lanAddress).map((e) => e.mark & 0xff);
    expect(new Set(marks)).toEqual(new Set([1, 2]));

    // A LAN mwan does not balance (the second LAN, eth1, is not in the config) takes the main
    // table's default route, link 1, and leaves NATed as link 1 says: the server could not answer
    // its own address.
    const lan2 = await lab.connect({ role: 'lan2', from: lab.lan2Address, count: 5 });
    expect(lan2.filter((r) => !r.ok)).toEqual([]);
    expect(new Set(lan2.map((r) => r.seen?.src))).toEqual(new Set([lab.links[0].routerAddress]));
  });

  it('relaxes rp_filter that is strict through conf.all only on the interface, and down puts it back', async () => {
    const sysctl = async (name: string) => (await lab.exec('router', 'sysctl', ['-n', name])).stdout.trim();
    // The lab starts strict: all=1. Link 2's own value 0 leaves it strict (the kernel uses the larger).
    await lab.exec('router', 'sysctl', ['-q', '-w', 'net.ipv4.conf.wan2.rp_filter=0']);
    try {
      expect(await sysctl('net.ipv4.conf.all.rp_filter')).toBe('1');
      await applyWith();
      expect([await sysctl('net.ipv4.conf.all.rp_filter'), await sysctl('net.ipv4.conf.wan1.rp_filter'), await sysctl('net.ipv4.conf.wan2.rp_filter')]).toEqual(['1', '2', '2']);
      // Replies of link 2's connections arrive on wan2, which the main table would not choose.
      const results = await lab.connect({ count: 10 });
      expect(splitBySnat(lab, results.map((r) => r.seen?.src))).toEqual({ isp1: 5, isp2: 5 });
      await lab.mwanOk(['down']);
      expect([await sysctl('net.ipv4.conf.all.rp_filter'), await sysctl('net.ipv4.conf.wan1.rp_filter'), await sysctl('net.ipv4.conf.wan2.rp_filter')]).toEqual(['1', '1', '0']);
    } finally {
      await lab.exec('router', 'sysctl', ['-q', '-w', 'net.ipv4.conf.wan2.rp_filter=1']);
    }
  });
});


