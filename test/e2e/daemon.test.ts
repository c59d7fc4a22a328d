// `mwan watch` keeps the kernel as the config and the links' interfaces want it, whatever else
// happened: netlink events and a periodic check each make it compare, and it repairs what
// differs within 2 s, one line naming it. Real connections from the LAN after each repair.
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { execa } from 'execa';
import { findMwanCli, type Lab, type LabLink, type TrafficServer } from '@mwan/lab';
import { createLab, freshRouter, leftovers, pollUntil, splitOfNew } from './helpers.js';
import { WatchProcess } from './watch-process.js';

jest.setTimeout(120_000);

const PREFIX = 'mwe2edmn';
/** What the issue allows from the change to the repaired kernel. */
const REPAIR_MS = 2000;

const processGone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('mwan watch owns the router: drift repaired, links that come and go', () => {
  let lab: Lab;
  let server: TrafficServer;
  let isp1: LabLink;
  let isp2: LabLink;
  let isp3: LabLink;
  let watch: WatchProcess | undefined;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 3 });
    server = await lab.startServer();
    [isp1, isp2, isp3] = lab.links;
  });

  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
  });

  afterAll(async () => {
    await watch?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  beforeEach(() => freshRouter(lab, server));

  const router = (...args: string[]) => lab.exec('router', 'ip', args);
  const has = async (args: string[], text: string) => ((await router(...args)).stdout.includes(text) ? true : undefined);

  async function startWatch(config: string): Promise<WatchProcess> {
    watch = new WatchProcess(lab, config);
    await watch.waitFor(/^watching/);
    return watch;
  }

  /** How long from now until `probe` holds, failing past REPAIR_MS (with some slack for a loaded machine reported). */
  async function repairedWithin(what: string, probe: () => Promise<true | undefined>, timeoutMs = 3 * REPAIR_MS): Promise<number> {
    const started = Date.now();
    try {
      await pollUntil(probe, what, timeoutMs, 20);
    } catch (error) {
      // What watch said meanwhile is what tells a slow repair from a missed one.
      throw new Error(`${(error as Error).message}\nmwan watch printed:\n${watch?.text ?? '(not running)'}`, { cause: error });
    }
    return Date.now() - started;
  }

  const split = (count: number) => splitOfNew(lab, server, count);

  it('puts back the table after `nft flush ruleset`, a deleted rule, a route the kernel dropped when its link bounced, and a reset sysctl', async () => {
    const w = await startWatch(await lab.configFor({ strategy: 'round-robin' }));
    const times: Record<string, number> = {};

    let after = Date.now();
    await lab.exec('router', 'nft', ['flush', 'ruleset']);
    times.flush = await repairedWithin('table inet mwan back', async () => (await has(['rule'], 'lookup 1001')) && (await lab.exec('router', 'nft', ['list', 'tables'])).stdout.includes('inet mwan') ? true : undefined);
    await w.waitFor(/^repair: the kernel differs from the config \(nft -f - \(table inet mwan, \d+ lines\)\); applying active links isp1, isp2, isp3 again$/, 5000, after);

    after = Date.now();
    await router('rule', 'del', 'pref', '31001', 'lookup', '1002');
    times.rule = await repairedWithin('rule of isp2 back', () => has(['rule'], 'lookup 1002'));
    await w.waitFor(/^repair: .*ip rule add pref 31001 fwmark 0x2\/0xff lookup 1002 proto 109/, 5000, after);

    // A bounce: the kernel drops the link's routes when it goes down; mwan leaves it out while
    // it is down, and puts its route back once it is up again.
    after = Date.now();
    await router('link', 'set', isp2.routerInterface, 'down');
    await w.waitFor(/^link isp2 left out: interface wan2 is administratively down \(admin-down\)$/, 5000, after);
    await router('link', 'set', isp2.routerInterface, 'up');
    times.bounce = await repairedWithin('route of isp2 back', () => has(['route', 'show', 'table', '1002'], `default via ${isp2.gateway}`));

    after = Date.now();
    await lab.exec('router', 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=0']);
    times.sysctl = await repairedWithin('ip_forward back to 1', async () => ((await lab.exec('router', 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim() === '1' ? true : undefined));
    await w.waitFor(/^repair: .*sysctl -w net\.ipv4\.ip_forward=1/, 5000, after);

    console.log(`repair times (ms): ${JSON.stringify(times)}`);
    for (const ms of Object.values(times)) expect(ms).toBeLessThanOrEqual(REPAIR_MS);
    expect(await split(30)).toEqual({ isp1: 10, isp2: 10, isp3: 10 });
  });

  it('starts with an absent interface and balances the others; the link joins when its interface appears', async () => {
    await router('link', 'set', isp3.routerInterface, 'down');
    await router('link', 'set', isp3.routerInterface, 'name', 'wan3away');
    let back = false;
    try {
      const w = await startWatch(await lab.configFor({ strategy: 'round-robin' }));
      await w.waitFor(/^link isp3 left out: interface wan3 does not exist \(absent\)$/);
      expect(await split(20)).toEqual({ isp1: 10, isp2: 10, isp3: 0 });

      await router('link', 'set', 'wan3away', 'name', isp3.routerInterface);
      await router('link', 'set', isp3.routerInterface, 'up');
      back = true;
      const joined = await repairedWithin('isp3 in the ruleset', () => has(['route', 'show', 'table', '1003'], `default via ${isp3.gateway}`));
      console.log(`the interface came back; isp3 joined after ${joined} ms`);
      expect(joined).toBeLessThanOrEqual(REPAIR_MS);
      await pollUntil(async () => ((await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'])).stdout.includes('pick_isp3') ? true : undefined), 'isp3 in the table');
      expect(await split(30)).toEqual({ isp1: 10, isp2: 10, isp3: 10 });
    } finally {
      if (!back) {
        await router('link', 'set', 'wan3away', 'name', isp3.routerInterface);
        await router('link', 'set', isp3.routerInterface, 'up');
      }
    }
  });

  it('starts with no link able to carry traffic, waits, and balances as soon as an interface appears', async () => {
    const config = await lab.configFor({ strategy: 'round-robin', only: [1, 2] });
    const away = [isp1, isp2];
    for (const l of away) {
      await router('link', 'set', l.routerInterface, 'down');
      await router('link', 'set', l.routerInterface, 'name', `${l.routerInterface}away`);
    }
    const back = new Set<LabLink>();
    // As a DHCP client would when its link comes up: the main table's default route through it
    // (the lab's own, through link 1, went with wan1; loose reverse-path filtering needs one).
    const restore = async (l: LabLink) => {
      await router('link', 'set', `${l.routerInterface}away`, 'name', l.routerInterface);
      await router('link', 'set', l.routerInterface, 'up');
      await router('route', 'replace', 'default', 'via', l.gateway, 'dev', l.routerInterface);
      back.add(l);
    };
    try {
      const w = await startWatch(config);
      await w.waitFor(/^nothing applied yet: .*no link can carry traffic: isp1: interface wan1 does not exist \(absent\); isp2: interface wan2 does not exist \(absent\).*waiting for a link/);
      // Still running, nothing applied.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(w.lines.filter((l) => /^nothing applied yet/.test(l.text))).toHaveLength(1);
      expect((await lab.exec('router', 'nft', ['list', 'tables'])).stdout).not.toContain('mwan');
      await restore(isp2);
      const joined = await repairedWithin('isp2 in the ruleset', () => has(['route', 'show', 'table', '1002'], `default via ${isp2.gateway}`));
      console.log(`the first interface appeared; applied after ${joined} ms`);
      expect(joined).toBeLessThanOrEqual(REPAIR_MS);
      await pollUntil(async () => ((await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'])).stdout.includes('pick_isp2') ? true : undefined), 'isp2 in the table');
      expect(await split(20)).toEqual({ isp1: 0, isp2: 20, isp3: 0 });
      await restore(isp1);
      await pollUntil(async () => ((await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'])).stdout.includes('pick_isp1') ? true : undefined), 'isp1 in the table', 3 * REPAIR_MS);
      expect(await split(20)).toEqual({ isp1: 10, isp2: 10, isp3: 0 });
    } finally {
      for (const l of away) if (!back.has(l)) await restore(l);
      // The lab's main table: its way out is link 1.
      await router('route', 'replace', 'default', 'via', isp1.gateway, 'dev', isp1.routerInterface);
    }
  });

  it('follows a DHCP-style gateway change of a "gateway": "auto" link without a manual apply', async () => {
    const config = JSON.parse(readFileSync(await lab.configFor({ strategy: 'round-robin' }), 'utf8')) as { links: { gateway?: string }[] };
    config.links[0].gateway = 'auto';
    const w = await startWatch(await lab.writeConfig(config, 'auto.json'));
    expect(await has(['route', 'show', 'table', '1001'], `default via ${isp1.gateway} dev`)).toBe(true);
    await lab.exec('srv', 'ip', ['addr', 'add', '10.37.1.2/24', 'dev', isp1.serverInterface]);
    try {
      const after = Date.now();
      await router('route', 'replace', 'default', 'via', '10.37.1.2', 'dev', isp1.routerInterface);
      const followed = await repairedWithin('table 1001 via the new gateway', () => has(['route', 'show', 'table', '1001'], 'default via 10.37.1.2 dev'));
      console.log(`new gateway followed after ${followed} ms`);
      expect(followed).toBeLessThanOrEqual(REPAIR_MS);
      await w.waitFor(/^repair: .*ip route replace default via 10\.37\.1\.2 dev wan1 table 1001 proto 109/, 5000, after);
      expect(await split(30)).toEqual({ isp1: 10, isp2: 10, isp3: 10 });
    } finally {
      await router('route', 'replace', 'default', 'via', isp1.gateway, 'dev', isp1.routerInterface);
      await lab.exec('srv', 'ip', ['addr', 'del', '10.37.1.2/24', 'dev', isp1.serverInterface]);
    }
  });

  it('leaves alone what a running mwan use adds to its table, and removes what a killed one left', async () => {
    const w = await startWatch(await lab.configFor({ strategy: 'round-robin' }));
    const useRules = async () => (await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'])).stdout.split('\n').filter((l) => l.includes('mwan: use'));
    // nsenter, not `ip netns exec`: that one mounts a /sys of its own, without the cgroup hierarchies.
    const use = (script: string) => execa('nsenter', [`--net=/run/netns/${lab.ns.router}`, process.execPath, findMwanCli(), '--run-dir', lab.runDir, 'use', 'isp2', '--', 'sh', '-c', script], { reject: false });
    // The command waits past the events its rule made and a drift check, then connects.
    const result = await use(`sleep 2.5; /bin/busybox nc -w 3 ${lab.serverAddress} 7000`);
    expect(result.exitCode).toBe(0);
    expect((JSON.parse(result.stdout.split('\n')[0]) as { src: string }).src).toBe(isp2.routerAddress);
    expect(w.text).not.toMatch(/^repair:/m);

    // `exec`: the command is the shell's only process, so one kill ends it after mwan use.
    const killed = use('exec sleep 60');
    const pid = killed.pid as number;
    try {
      await pollUntil(async () => ((await useRules()).length ? true : undefined), 'the use rule in the table');
      process.kill(pid, 'SIGKILL');
      await pollUntil(async () => (processGone(pid) ? true : undefined), 'mwan use gone');
      // Nothing announces a dead process: the check of every 10 s finds its rule.
      const gone = await repairedWithin('the dead use rule removed', async () => ((await useRules()).length ? undefined : true), 12_000);
      console.log(`a killed mwan use's rule removed after ${gone} ms`);
      await w.waitFor(/^repair: the kernel differs from the config \(nft -f - /);
    } finally {
      // What mwan use would have cleaned up itself: its command, then its (empty) cgroup.
      const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
      const mount = mountinfo.split('\n').find((l) => l.split(' - ')[1]?.startsWith('cgroup2 '))?.split(' ')[4];
      const cgroup = mount ? `${mount}/mwan-use-${pid}` : undefined;
      if (cgroup && existsSync(cgroup)) {
        for (const p of readFileSync(`${cgroup}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) process.kill(Number(p), 'SIGKILL');
        await pollUntil(async () => (readFileSync(`${cgroup}/cgroup.procs`, 'utf8').trim() ? undefined : true), 'the cgroup empty');
        rmdirSync(cgroup);
      }
      await killed;
    }
  });
});

