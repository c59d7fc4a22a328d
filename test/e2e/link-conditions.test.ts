// A link whose interface cannot carry traffic is down, not an error: `mwan apply` applies the
// other links, says which it left out and why, and takes the link back once its interface can
// carry traffic again. Real connections from the LAN show which links were used.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Lab, LabLink, TrafficServer } from '@mwan/lab';
import { createLab, freshRouter, leftovers, splitOfNew } from './helpers.js';

jest.setTimeout(120_000);

const PREFIX = 'mwe2elnk';

interface StatusLink {
  name: string;
  state: 'up' | 'down';
  reason?: string;
  rule: boolean;
  route: boolean;
}

describe('links that cannot carry traffic (mwan apply in the lab router)', () => {
  let lab: Lab;
  let server: TrafficServer;
  let isp1: LabLink;
  let isp2: LabLink;
  let isp3: LabLink;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 3 });
    server = await lab.startServer();
    [isp1, isp2, isp3] = lab.links;
  });

  afterAll(async () => {
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  beforeEach(() => freshRouter(lab, server));

  const router = (...args: string[]) => lab.exec('router', 'ip', args);

  /** TCP connections and UDP flows from the LAN, all answered; per link, how many the server saw. */
  const split = (count: number) => splitOfNew(lab, server, count, ['tcp', 'udp']);

  async function statusLinks(): Promise<Record<string, StatusLink>> {
    const status = JSON.parse((await lab.mwanOk(['status', '--json'])).stdout) as { links: StatusLink[] };
    return Object.fromEntries(status.links.map((l) => [l.name, l]));
  }

  const rulesOf = async () => (await router('rule', 'show')).stdout;

  it('an absent interface: the other links are balanced, one line names the link, status says absent; the link joins when it is back', async () => {
    const config = await lab.configFor({ strategy: 'round-robin' });
    await router('link', 'set', isp3.routerInterface, 'down');
    await router('link', 'set', isp3.routerInterface, 'name', 'wan3gone');
    try {
      const applied = await lab.mwanOk(['apply', '--config', config]);
      expect(applied.stdout).toContain('applied 2 links with strategy round-robin');
      expect(applied.stdout.split('\n').filter((l) => l.includes('left out'))).toEqual([
        `  left out: isp3: interface ${isp3.routerInterface} does not exist (absent)`,
      ]);
      expect(await split(20)).toEqual({ isp1: 20, isp2: 20, isp3: 0 });
      const links = await statusLinks();
      expect(links.isp3).toMatchObject({ state: 'down', reason: 'absent', rule: false, route: false });
      expect(links.isp1).toMatchObject({ state: 'up', rule: true, route: true });
      // No rule of the absent link: nothing of it can fall through to the main table.
      expect(await rulesOf()).not.toContain(`lookup ${1000 + 3}`);
    } finally {
      await router('link', 'set', 'wan3gone', 'name', isp3.routerInterface);
      await router('link', 'set', isp3.routerInterface, 'up');
    }
    // Back with its address: the next apply takes it in.
    const again = await lab.mwanOk(['apply', '--config', config]);
    expect(again.stdout).toContain('applied 3 links');
    expect(again.stdout).not.toContain('left out');
    expect(await split(30)).toEqual({ isp1: 20, isp2: 20, isp3: 20 });
  });

  it('no carrier, administratively down and a static snat address no longer on the interface each leave their link out', async () => {
    const config = await lab.configFor({ strategy: 'round-robin', snat: 'address' });
    const leftOut = async (expected: string) => {
      const result = await lab.mwanOk(['apply', '--config', config]);
      expect(result.stdout.split('\n').filter((l) => l.includes('left out'))).toEqual([expected]);
    };

    // The far end going down takes the carrier away.
    await lab.exec('srv', 'ip', ['link', 'set', isp2.serverInterface, 'down']);
    try {
      await leftOut(`  left out: isp2: interface ${isp2.routerInterface} has no carrier (no-carrier)`);
      expect(await split(10)).toEqual({ isp1: 10, isp2: 0, isp3: 10 });
      expect((await statusLinks()).isp2).toMatchObject({ state: 'down', reason: 'no-carrier' });
    } finally {
      await lab.exec('srv', 'ip', ['link', 'set', isp2.serverInterface, 'up']);
    }

    await router('link', 'set', isp3.routerInterface, 'down');
    try {
      await leftOut(`  left out: isp3: interface ${isp3.routerInterface} is administratively down (admin-down)`);
      expect(await split(10)).toEqual({ isp1: 10, isp2: 10, isp3: 0 });
    } finally {
      await router('link', 'set', isp3.routerInterface, 'up');
    }

    await router('addr', 'del', `${isp2.routerAddress}/24`, 'dev', isp2.routerInterface);
    await router('addr', 'add', '10.37.2.250/24', 'dev', isp2.routerInterface);
    try {
      await leftOut(`  left out: isp2: snat address ${isp2.routerAddress} is not on interface ${isp2.routerInterface} (it has 10.37.2.250) (snat-address-missing)`);
      expect(await split(10)).toEqual({ isp1: 10, isp2: 0, isp3: 10 });
    } finally {
      await router('addr', 'del', '10.37.2.250/24', 'dev', isp2.routerInterface);
      await router('addr', 'add', `${isp2.routerAddress}/24`, 'dev', isp2.routerInterface);
    }
    expect((await lab.mwanOk(['apply', '--config', config])).stdout).not.toContain('left out');
    expect(await split(30)).toEqual({ isp1: 20, isp2: 20, isp3: 20 });
  });

  it('"gateway": "auto" follows the main table\'s default route through the interface; none to learn leaves the link out', async () => {
    const base = JSON.parse(readFileSync(await lab.configFor({ strategy: 'round-robin' }), 'utf8')) as { links: { gateway?: string }[] };
    base.links[0].gateway = 'auto';
    base.links[1].gateway = 'auto';
    const config = await lab.writeConfig(base, 'auto.json');
    const tableRoute = async (table: number) => (await router('route', 'show', 'table', String(table))).stdout.trim();

    // The lab's main default route goes by link 1; link 2 has none to learn from.
    const first = await lab.mwanOk(['apply', '--config', config]);
    expect(first.stdout.split('\n').filter((l) => l.includes('left out'))).toEqual([
      `  left out: isp2: interface ${isp2.routerInterface} has no default route in the main table to learn the gateway from (no-gateway)`,
    ]);
    expect(await tableRoute(1001)).toBe(`default via ${isp1.gateway} dev ${isp1.routerInterface} proto 109`);
    expect(await split(10)).toEqual({ isp1: 10, isp2: 0, isp3: 10 });

    // A new lease: another gateway on link 1, and a default route (any metric) appears for link 2.
    await lab.exec('srv', 'ip', ['addr', 'add', '10.37.1.2/24', 'dev', isp1.serverInterface]);
    await router('route', 'replace', 'default', 'via', '10.37.1.2', 'dev', isp1.routerInterface);
    await router('route', 'add', 'default', 'via', isp2.gateway, 'dev', isp2.routerInterface, 'metric', '600');
    try {
      const second = await lab.mwanOk(['apply', '--config', config]);
      expect(second.stdout).not.toContain('left out');
      expect(await tableRoute(1001)).toBe(`default via 10.37.1.2 dev ${isp1.routerInterface} proto 109`);
      expect(await tableRoute(1002)).toBe(`default via ${isp2.gateway} dev ${isp2.routerInterface} proto 109`);
      expect(await split(30)).toEqual({ isp1: 20, isp2: 20, isp3: 20 });
    } finally {
      await router('route', 'del', 'default', 'via', isp2.gateway, 'dev', isp2.routerInterface, 'metric', '600');
      await router('route', 'replace', 'default', 'via', isp1.gateway, 'dev', isp1.routerInterface);
      await lab.exec('srv', 'ip', ['addr', 'del', '10.37.1.2/24', 'dev', isp1.serverInterface]);
    }
  });
});
