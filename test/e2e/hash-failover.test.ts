// source-hash across a failover, with real traffic: three links weighing 2:1:1, 18 LAN addresses,
// `mwan watch` running, link 1 black-holed at the server's end (the router sees no carrier change). Each round
// opens one new TCP connection from every LAN address and reads each address's link two ways:
// the link address the server saw, and the ct mark of the connection in the router's conntrack.
// Every address used lives in the lab's namespaces.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { configFor, type Lab, type TrafficServer } from '@mwan/lab';
import { WatchProcess } from './watch-process.js';
import { createLab, leftovers, linkMarks, pollUntil } from './helpers.js';

jest.setTimeout(120_000);

const PREFIX = 'mwe2ehash';
const BLACKHOLE_TABLE = 'mwanhash_blackhole';

describe('source-hash survives a failover (mwan watch, a black-holed link)', () => {
  let lab: Lab;
  let server: TrafficServer;
  let watch: WatchProcess | undefined;
  let config: string;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 3, lanAddresses: 17 });
    server = await lab.startServer({ quiet: true });
    await lab.exec('srv', 'nft', ['-f', '-'], {
      input: `table inet ${BLACKHOLE_TABLE} {\n\tset dead { type ifname; }\n\tchain in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\tiifname @dead drop\n\t}\n}\n`,
    });
    const base = configFor(lab.links, { strategy: 'source-hash', weights: [2, 1, 1] });
    config = await lab.writeConfig({ ...base, health: { targets: [lab.serverAddress] } }, 'hash.json');
  }, 60_000);

  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
    await lab.exec('srv', 'nft', ['flush', 'set', 'inet', BLACKHOLE_TABLE, 'dead']);
    await lab.mwan(['down']);
    await lab.flushConntrack();
  }, 60_000);

  afterAll(async () => {
    server?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  async function startWatch(): Promise<WatchProcess> {
    watch = new WatchProcess(lab, config);
    await watch.waitFor(/^watching /);
    return watch;
  }

  async function setBlackhole(index: number, on: boolean): Promise<void> {
    await lab.exec('srv', 'nft', [on ? 'add' : 'delete', 'element', 'inet', BLACKHOLE_TABLE, 'dead', `{ "${lab.links[index - 1].serverInterface}" }`]);
  }

  /** The links the ruleset gives new connections now (lab links are isp1, isp2, isp3). */
  async function selectable(): Promise<string[]> {
    const { stdout } = await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan']);
    const line = stdout.split('\n').find((l) => l.includes('comment "mwan: strategy')) ?? '';
    return [...new Set([...line.matchAll(/goto pick_(\w+)/g)].map((m) => m[1]))].sort();
  }

  const waitSelectable = (names: string[]) => pollUntil(async () => ((await selectable()).join() === names.join() ? true : undefined), `the ruleset to select ${names.join(', ')}`, 10_000, 50);

  /**
   * One new TCP connection from every LAN address: each address's link as the server saw it
   * (its SNAT address), checked against the ct mark and reply address of that connection.
   */
  async function round(): Promise<Record<string, string>> {
    const results = await lab.connect({ count: lab.lanAddresses.length, from: lab.lanAddresses, concurrency: 6 });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const marks = await linkMarks(lab);
    const entries = await lab.conntrack();
    const links: Record<string, string> = {};
    for (const result of results) {
      const link = lab.linkBySnatAddress(result.seen!.src)!;
      const entry = entries.find((e) => e.proto === 'tcp' && e.original.src === result.src && e.original.sport === result.local!.port && e.original.dst === lab.serverAddress);
      expect([result.src, entry?.mark !== undefined ? entry.mark & 0xff : undefined, entry?.reply.dst]).toEqual([result.src, marks[link.name], link.routerAddress]);
      links[result.src] = link.name;
    }
    expect(Object.keys(links).sort()).toEqual([...lab.lanAddresses].sort());
    return links;
  }

  const onLink = (links: Record<string, string>, name: string) => Object.keys(links).filter((a) => links[a] === name);

  it('moves only the dead link\'s clients, spread over the others, and back when it recovers; a reload or restart moves nobody', async () => {
    expect(lab.lanAddresses).toHaveLength(18);
    const w = await startWatch();
    await waitSelectable(['isp1', 'isp2', 'isp3']);
    const before = await round();
    // Every link has clients, or the test would prove nothing.
    for (const name of ['isp1', 'isp2', 'isp3']) expect(onLink(before, name).length).toBeGreaterThan(0);
    // A second round on the same map: source-hash is per address, not per connection.
    expect(await round()).toEqual(before);

    // isp1, the heaviest, fails. (A hash whose modulus follows the links, jhash mod 4 then mod 2,
    // would move every client of isp2 to isp3 here.)
    const blackholed = Date.now();
    await setBlackhole(1, true);
    await w.waitFor(/^active links: isp2, isp3 \(was/, 10_000, blackholed);
    await waitSelectable(['isp2', 'isp3']);
    const down = await round();
    const moved = Object.keys(before).filter((a) => down[a] !== before[a]);
    // Exactly isp1's clients moved, to both other links; every client of isp2 and isp3 kept its link.
    expect(moved.sort()).toEqual(onLink(before, 'isp1').sort());
    expect(onLink(down, 'isp1')).toEqual([]);
    expect(new Set(moved.map((a) => down[a]))).toEqual(new Set(['isp2', 'isp3']));
    console.log(`source-hash failover: ${JSON.stringify({ before, down })}`);

    // A reload with the same links (SIGHUP) while isp1 is down moves nobody.
    const reloadAt = Date.now();
    w.signal('SIGHUP');
    await w.waitFor(/^SIGHUP: reloaded /, 10_000, reloadAt);
    expect(await round()).toEqual(down);

    const restored = Date.now();
    await setBlackhole(1, false);
    await w.waitFor(/^active links: isp1, isp2, isp3 \(was/, 15_000, restored);
    await waitSelectable(['isp1', 'isp2', 'isp3']);
    // isp1's clients are back on isp1, and nobody else moved.
    expect(await round()).toEqual(before);

    // A restart of the daemon (stopped as systemd stops it) computes the same map from the same links.
    w.signal('SIGTERM');
    expect(await w.exited).toBe(0);
    await startWatch();
    await waitSelectable(['isp1', 'isp2', 'isp3']);
    expect(await round()).toEqual(before);
  });
});
