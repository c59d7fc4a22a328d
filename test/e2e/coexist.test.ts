// mwan owns one nft table and the rules and routes stamped proto 109, nothing else: a firewall,
// policy rules and a routing table that were there before survive apply and down untouched.
// Also: traffic between two LANs of the router is not balanced, and a bad config changes nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Lab } from '@mwan/lab';
import { createLab, leftovers } from './helpers.js';

// Namespaces, real traffic and several CLI runs per test (testTimeout in a jest project entry is not applied).
jest.setTimeout(120_000);

const PREFIX = 'mwe2eco';

// Addresses inside the lab's LAN that no host uses: the rules below never match lab traffic.
const FOREIGN_FILTER = `table inet filter {
	counter foreign_hits {
		packets 42 bytes 4242
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		ip saddr 192.168.157.250 counter name "foreign_hits" drop
		ip daddr 192.168.157.251 counter packets 5 bytes 300 drop
	}
}
`;

interface Snapshot {
  filter: string;
  filterHandles: string;
  tables: string;
  rules: string;
  table100: string;
  main: string;
  rpFilter: string;
}

describe('coexistence with what the router already has', () => {
  let lab: Lab;
  let config: string;

  const run = async (cmd: string, args: string[]) => (await lab.exec('router', cmd, args)).stdout;
  const snapshot = async (): Promise<Snapshot> => ({
    filter: await run('nft', ['list', 'table', 'inet', 'filter']),
    filterHandles: await run('nft', ['-a', 'list', 'table', 'inet', 'filter']),
    tables: await run('nft', ['list', 'tables']),
    rules: await run('ip', ['-json', 'rule', 'show']),
    table100: await run('ip', ['-json', 'route', 'show', 'table', '100']),
    main: await run('ip', ['-json', 'route', 'show', 'table', 'main']),
    rpFilter: await run('sysctl', ['net.ipv4.conf.wan1.rp_filter', 'net.ipv4.conf.wan2.rp_filter']),
  });
  const foreignRules = (json: string) => (JSON.parse(json) as { protocol?: string }[]).filter((r) => r.protocol !== '109');
  const ownedRules = async () => (JSON.parse(await run('ip', ['-json', 'rule', 'show'])) as { protocol?: string }[]).filter((r) => r.protocol === '109');
  const ownedRoutes = async () => JSON.parse(await run('ip', ['-json', 'route', 'show', 'table', 'all', 'proto', '109'])) as unknown[];
  const mwanTable = async () => (await lab.exec('router', 'nft', ['-s', 'list', 'table', 'inet', 'mwan'], { reject: false }));

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2, secondLan: true });
    await lab.exec('router', 'nft', ['-f', '-'], { input: FOREIGN_FILTER });
    await lab.exec('router', 'ip', ['rule', 'add', 'pref', '1000', 'from', '192.168.157.250', 'lookup', '100']);
    await lab.exec('router', 'ip', ['route', 'add', '172.16.1.100/32', 'via', '10.37.2.1', 'dev', 'wan2', 'table', '100']);
    await lab.startServer();
    config = await lab.configFor({ strategy: 'round-robin' });
  });

  afterAll(async () => {
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  beforeEach(async () => {
    await lab.mwanOk(['down']);
  });

  it('keeps a foreign nft table, ip rule and routing table byte-identical through apply, re-apply and down', async () => {
    const before = await snapshot();
    expect(before.filter).toContain('packets 42 bytes 4242');
    expect(before.rpFilter).toContain('wan2.rp_filter = 1');

    await lab.mwanOk(['apply', '--config', config]);
    const applied = await snapshot();
    expect(applied.filter).toBe(before.filter);
    expect(applied.filterHandles).toBe(before.filterHandles);
    expect(applied.table100).toBe(before.table100);
    expect(applied.main).toBe(before.main);
    expect(foreignRules(applied.rules)).toEqual(foreignRules(before.rules));
    expect(applied.tables).toBe(`${before.tables}\ntable inet mwan`);
    // Suppress rules for the LAN and for the router itself (iif lo), and one fwmark rule per link.
    expect(await ownedRules()).toHaveLength(4);
    // It works while the foreign state is in place.
    const results = await lab.connect({ count: 10 });
    expect(results.filter((r) => r.ok)).toHaveLength(10);

    // Re-apply: nothing changes.
    const table = (await mwanTable()).stdout;
    const routes = await ownedRoutes();
    await lab.mwanOk(['apply', '--config', config]);
    const again = await snapshot();
    expect(again.rules).toBe(applied.rules);
    expect(await ownedRoutes()).toEqual(routes);
    expect((await mwanTable()).stdout).toBe(table);
    expect(again.filter).toBe(before.filter);

    await lab.mwanOk(['down']);
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(await ownedRules()).toEqual([]);
    expect(await ownedRoutes()).toEqual([]);
    const gone = await mwanTable();
    expect(gone.exitCode).not.toBe(0);
    expect(after.tables).not.toContain('inet mwan');
  });

  it('does not send LAN traffic to another connected subnet of the router out of a link', async () => {
    await lab.mwanOk(['apply', '--config', config]);
    const lan2 = await lab.startServer({ role: 'lan2' });
    // A counter of our own (not mwan's) on packets for LAN2 that leave through a link; it sits
    // before SNAT, so it sees them whatever their source became.
    await lab.exec('router', 'nft', ['-f', '-'], {
      input: 'table ip leakcheck {\n\tcounter leaked {\n\t}\n\n\tchain post {\n\t\ttype filter hook postrouting priority filter; policy accept;\n\t\toifname "wan*" ip daddr 192.168.158.0/24 counter name "leaked"\n\t}\n}\n',
    });
    const leaked = async () => {
      const { nftables } = JSON.parse(await run('nft', ['-j', 'list', 'counter', 'ip', 'leakcheck', 'leaked'])) as { nftables: { counter?: { packets: number } }[] };
      return nftables.find((item) => item.counter)!.counter!.packets;
    };
    try {
      const tcp = await lab.connect({ count: 20, to: lab.lan2Address });
      const udp = await lab.connect({ proto: 'udp', count: 20, to: lab.lan2Address });
      expect([...tcp, ...udp].filter((r) => !r.ok)).toEqual([]);
      // The LAN2 host sees the real LAN address, not a link's SNAT address.
      expect(new Set(lan2.records().map((r) => r.src))).toEqual(new Set([lab.lanAddress]));
      expect(lan2.records()).toHaveLength(40);
      expect(await leaked()).toBe(0);

      // Without mwan's `suppress_prefixlength 0` rule the same traffic would take a link: the
      // counter sees it, and the LAN2 host never gets it. `apply` puts the rule back.
      await lab.exec('router', 'ip', ['rule', 'del', 'pref', '31000', 'iif', 'eth0', 'lookup', 'main', 'suppress_prefixlength', '0', 'proto', '109']);
      const broken = await lab.connect({ count: 2, to: lab.lan2Address, timeoutMs: 500 });
      expect(broken.filter((r) => r.ok)).toEqual([]);
      expect(await leaked()).toBeGreaterThan(0);
      await lab.mwanOk(['apply', '--config', config]);
      const repaired = await lab.connect({ count: 2, to: lab.lan2Address });
      expect(repaired.filter((r) => r.ok)).toHaveLength(2);
    } finally {
      lan2.stop();
      await lab.exec('router', 'nft', ['delete', 'table', 'ip', 'leakcheck'], { reject: false });
    }
  });

  it('refuses a bad config with exit 2, one line per problem naming the field, and changes nothing', async () => {
    const before = await snapshot();
    const bad = JSON.parse(readFileSync(config, 'utf8')) as { links: { interface: string; weight: number }[] };
    bad.links[1].interface = 'eth0;';
    bad.links[0].weight = 0;
    const result = await lab.mwan(['apply', '--config', await lab.writeConfig(bad, 'bad.json')]);
    expect(result.exitCode).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => l.includes('links[1].interface'))).toBe(true);
    expect(lines.some((l) => l.includes('links[0].weight'))).toBe(true);
    expect(await snapshot()).toEqual(before);
    expect(await ownedRules()).toEqual([]);
    expect((await mwanTable()).exitCode).not.toBe(0);
  });
});
