import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { container as rootContainer } from 'tsyringe';
import { wire } from '../container.js';
import { buildModel, loadConfigFile, render } from '@mwan/core';
import { CLOCK, FakeClock, HOOK_RUNNER, PROBER, type HookRunner, type ProbedLink, type ProbeOutcome, type Prober } from '@mwan/health';
import { FakeKernel, RecordingRunner, RUNNER, SYSCTLS, type KernelInterface } from '@mwan/iproute2';
import strategy from '@mwan/strategy-weighted';
import { main } from '../main.js';
import { KERNEL_EVENTS, type KernelEvents } from '../daemon/kernel-events.js';
import { SIGNALS } from './watch.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-watch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Watches of the running test: one that a failed assertion left running is stopped, or jest would wait for it forever. */
const running: { signals: EventEmitter; exit: Promise<number> }[] = [];
afterEach(async () => {
  for (const w of running.splice(0)) {
    w.signals.emit('SIGTERM');
    await w.exit;
  }
});

const links = [
  { name: 'isp1', interface: 'wan1', gateway: '10.37.1.1' },
  { name: 'isp2', interface: 'wan2', gateway: '10.37.2.1', health: { hook: '/etc/mwan/hook' } },
  { name: 'backup', interface: 'wan3', gateway: '10.37.3.1', priority: 1 },
];
const configOf = (extra: object = {}) => JSON.stringify({ lan: ['eth0'], links, health: { targets: ['172.16.1.100'] }, ...extra });

class SwitchProber implements Prober {
  readonly dead = new Set<string>();
  constructor(private readonly clock: FakeClock) {}
  async probe(link: ProbedLink): Promise<ProbeOutcome> {
    await this.clock.sleep(this.dead.has(link.name) ? link.health.timeout * 1000 : 1);
    return this.dead.has(link.name) ? { ok: false, error: 'timeout' } : { ok: true, rttMs: 1 };
  }
}

async function until(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `prepare`: changes the kernel before watch starts. */
function start(name: string, prepare?: (kernel: FakeKernel) => void) {
  const dir = join(tmp, name);
  const config = join(tmp, `${name}.json`);
  writeFileSync(config, configOf());
  const kernel = new FakeKernel({ conntrack: { 2: 5 } });
  prepare?.(kernel);
  const runner = new RecordingRunner(kernel.respond);
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const prober = new SwitchProber(clock);
  const signals = new EventEmitter();
  const hooks: Record<string, string>[] = [];
  const hookRunner: HookRunner = { run: async (path, env) => { hooks.push({ path, ...env }); return { exitCode: 0, output: '' }; } };
  const container = wire(rootContainer.createChildContainer());
  container.register(RUNNER, { useValue: runner });
  container.register(SYSCTLS, { useValue: kernel });
  container.register(CLOCK, { useValue: clock });
  container.register(PROBER, { useValue: prober });
  container.register(HOOK_RUNNER, { useValue: hookRunner });
  container.register(SIGNALS, { useValue: signals });
  // Netlink events, sent by the test: each one makes watch compare the kernel with the config.
  const netlink = new EventEmitter();
  const events: KernelEvents = { start: async (onChange) => { netlink.on('change', onChange); }, stop: async () => { netlink.removeAllListeners(); }, listening: () => true };
  container.register(KERNEL_EVENTS, { useValue: events });
  let out = '';
  let err = '';
  const exit = main(['watch', '--config', config, '--run-dir', dir], { container, env: {}, io: { out: (t) => { out += t; }, err: (t) => { err += t; } } });
  running.push({ signals, exit });
  const expectedNft = (active?: string[]) => render(buildModel(loadConfigFile(config)), strategy, active ? { active } : {}).nft;
  return { dir, config, kernel, runner, clock, prober, signals, hooks, netlink, exit, expectedNft, container, out: () => out, err: () => err };
}

describe('mwan watch', () => {
  it('waits when no link can carry traffic at start, and applies as soon as an interface appears', async () => {
    const absent = new Map<string, KernelInterface>();
    const w = start('absent', (kernel) => {
      for (const name of ['wan1', 'wan2', 'wan3']) {
        absent.set(name, kernel.links.get(name)!);
        kernel.links.delete(name);
      }
    });
    await until('the waiting line', () => w.out().includes('watching '));
    expect(w.out()).toMatch(/^nothing applied yet: apply failed at step "check": no link can carry traffic: isp1: .*\(absent\).*; waiting for a link \(on every kernel event, and every 2 s\)$/m);
    expect(w.kernel.table).toBeNull();
    // Retries find the same: no new line, nothing applied.
    await w.clock.advance(4000);
    expect(w.out().match(/nothing applied yet/g)).toHaveLength(1);
    expect(w.kernel.table).toBeNull();
    // wan2 appears (a modem plugged in): its netlink event makes watch apply at once.
    w.kernel.links.set('wan2', absent.get('wan2')!);
    w.netlink.emit('change');
    await until('the first apply', () => w.kernel.table !== null);
    // The health view's active set; the engine leaves isp1 out while its interface is absent.
    await until('the active line', () => /^active links: isp1, isp2$/m.test(w.out()));
    expect(w.out()).toMatch(/^link isp1 left out: interface wan1 does not exist \(absent\)$/m);
    // Probing started with it: health.json counts isp2's probes.
    const probed = () => {
      try {
        return (JSON.parse(readFileSync(join(w.dir, 'health.json'), 'utf8')) as { links: { name: string; probes: number }[] }).links.some((l) => l.name === 'isp2' && l.probes > 0);
      } catch {
        return false;
      }
    };
    // health.json is written by real file I/O: real time passes between the steps of the fake one.
    for (let i = 0; i < 50 && !probed(); i++) {
      await w.clock.advance(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(probed()).toBe(true);
    w.signals.emit('SIGTERM');
    expect(await w.exit).toBe(0);
  });

  it('repairs what another program changed: on a netlink event, and by its periodic check without one', async () => {
    const w = start('drift');
    try {
      await drifts(w);
    } finally {
      w.signals.emit('SIGTERM');
    }
    expect(await w.exit).toBe(0);
  });

  async function drifts(w: ReturnType<typeof start>): Promise<void> {
    await until('first apply', () => w.out().includes('watching '));
    const rules = JSON.stringify(w.kernel.rules);
    const loads = () => w.runner.calls.filter((c) => c.line === 'nft -f -').length;
    const before = loads();

    // Someone flushes the ruleset: the event makes watch look, and it puts the table back.
    w.kernel.table = null;
    w.netlink.emit('change');
    await until('table repaired', () => w.kernel.table !== null);
    expect(w.out()).toMatch(/^repair: the kernel differs from the config \(nft -f - \(table inet mwan, \d+ lines\)\); applying active links isp1, isp2 again$/m);
    expect(loads()).toBe(before + 1);

    // A sysctl write sends no event: the check of every second finds it.
    w.kernel.sysctls.set('net/ipv4/ip_forward', '0');
    await w.clock.advance(1000);
    await until('ip_forward repaired', () => w.kernel.sysctls.get('net/ipv4/ip_forward') === '1');
    expect(w.out()).toContain('repair: the kernel differs from the config (sysctl -w net.ipv4.ip_forward=1  # was 0)');

    // A link bounced and the kernel dropped its table's route; no event arrives this time: the
    // full check, at least every 10 s, finds it.
    const route = w.kernel.routes.find((r) => r.table === '1002');
    expect(route).toBeDefined();
    w.kernel.routes = w.kernel.routes.filter((r) => r !== route);
    await w.clock.advance(10_000);
    await until('route repaired', () => w.kernel.routes.some((r) => r.table === '1002'));
    expect(w.out()).toContain('repair: the kernel differs from the config (ip route replace default via 10.37.2.1 dev wan2 table 1002 proto 109)');
    expect(JSON.stringify(w.kernel.rules)).toBe(rules);

    // Nothing differs: more events and checks change nothing.
    const settled = w.runner.calls.length;
    w.netlink.emit('change');
    await w.clock.advance(3000);
    expect(w.runner.calls.slice(settled).filter((c) => !/^(ip (-[46] )?(-N )?-json|nft list)/.test(c.line))).toEqual([]);

    // Each repair is counted, the last one named, in health.json and in status.
    const repairs = () => {
      try {
        return (JSON.parse(readFileSync(join(w.dir, 'health.json'), 'utf8')) as { repairs?: { count: number; last?: { reason: string; what: string } } }).repairs;
      } catch {
        return undefined;
      }
    };
    await until('three repairs counted', () => repairs()?.count === 3);
    expect(repairs()?.last).toMatchObject({ reason: 'drift', what: 'ip route replace default via 10.37.2.1 dev wan2 table 1002 proto 109' });
    let status = '';
    expect(await main(['status', '--config', w.config, '--run-dir', w.dir], { container: w.container, env: {}, io: { out: (t) => { status += t; }, err: () => {} } })).toBe(0);
    expect(status).toMatch(/^repairs: 3 \(last \S+, drift: ip route replace default via 10\.37\.2\.1 dev wan2 table 1002 proto 109\)$/m);

    // `mwan down` is no drift: no state and no table are left alone.
    expect(await main(['down', '--config', w.config, '--run-dir', w.dir], { container: w.container, env: {}, io: { out: () => {}, err: () => {} } })).toBe(0);
    expect(w.kernel.table).toBeNull();
    w.netlink.emit('change');
    await w.clock.advance(10_000);
    expect(w.kernel.table).toBeNull();
  }

  it('applies the best tier, fails over, flushes the dead link, runs its hook, and stops on SIGTERM leaving the rules', async () => {
    const w = start('failover');
    await until('first apply', () => w.out().includes('watching '));
    expect(w.kernel.table).not.toBeNull();
    expect(w.runner.calls.find((c) => c.line === 'nft -f -')?.input).toBe(w.expectedNft(['isp1', 'isp2']));
    expect(w.out()).toContain('active links: isp1, isp2\n');

    w.prober.dead.add('isp2');
    await w.clock.advance(2000);
    await until('failover', () => w.out().includes('deleted 5 conntrack entries'));
    expect(w.out()).toMatch(/link isp2 down after 3 failed probes \(last: timeout\)\napplied active links isp1 in \d+ ms\nactive links: isp1 \(was isp1, isp2\)\nlink isp2: deleted 5 conntrack entries\n/);
    expect(w.runner.calls.filter((c) => c.line === 'nft -f -').at(-1)?.input).toBe(w.expectedNft(['isp1']));
    await until('hook', () => w.hooks.length === 1);
    expect(w.hooks[0]).toMatchObject({ path: '/etc/mwan/hook', MWAN_LINK: 'isp2', MWAN_STATE: 'down' });

    const health = JSON.parse(readFileSync(join(w.dir, 'health.json'), 'utf8')) as { links: { name: string; state: string }[] };
    expect(health).toMatchObject({ active: ['isp1'], allDown: false, pid: process.pid });
    expect(health.links.map((l) => [l.name, l.state])).toEqual([['isp1', 'up'], ['isp2', 'down'], ['backup', 'up']]);

    // A manual apply goes through the daemon's socket: the daemon applies it with the links that
    // are healthy, so the dead link does not come back, and prints the apply's own lines.
    let manualOut = '';
    const manual = await main(['apply', '--config', w.config, '--run-dir', w.dir], { container: w.container, env: {}, io: { out: (t) => { manualOut += t; }, err: () => {} } });
    expect(manual).toBe(0);
    expect(manualOut).toMatch(/^applied 3 links with strategy weighted: isp1 \(mark 0x1, table 1001\), isp2 \(mark 0x2, table 1002\), backup \(mark 0x3, table 1003\)\n/);
    expect(w.runner.calls.filter((c) => c.line === 'nft -f -').at(-1)?.input).toBe(w.expectedNft(['isp1']));
    expect(w.out()).toContain(`apply: ${w.config} applied for mwan apply (active links isp1; strategy weighted): table unchanged, done in `);
    await w.clock.advance(1000);
    expect(w.out()).not.toContain('the ruleset was applied by another mwan command');

    const loads = w.runner.calls.filter((c) => c.file === 'nft' && c.args[0] === '-f').length;
    w.signals.emit('SIGTERM');
    expect(await w.exit).toBe(0);
    expect(w.out()).toContain('SIGTERM: stopping; the ruleset stays as it is\n');
    expect(w.kernel.table).not.toBeNull();
    expect(w.runner.calls.filter((c) => c.file === 'nft' && c.args[0] === '-f')).toHaveLength(loads);
    expect((JSON.parse(readFileSync(join(w.dir, 'health.json'), 'utf8')) as { stopped?: unknown }).stopped).toEqual(expect.any(String));
  });

  it('reloads on SIGHUP, keeps running on a bad config, and status shows the links\' health', async () => {
    const w = start('reload');
    await until('first apply', () => w.out().includes('watching '));
    writeFileSync(w.config, '{ "lan": [] }');
    w.signals.emit('SIGHUP');
    await until('bad reload', () => w.out().includes('SIGHUP: config not reloaded'));
    expect(w.out()).toMatch(/SIGHUP: config not reloaded, the running one is kept: .*lan/);

    writeFileSync(w.config, configOf({ strategy: 'round-robin' }));
    w.signals.emit('SIGHUP');
    await until('reload', () => w.out().includes('SIGHUP: reloaded '));
    // Timed to the new table in place, then to the end of the apply.
    expect(w.out()).toMatch(new RegExp(`SIGHUP: reloaded ${w.config} \\(3 links, strategy round-robin\\): table swapped in \\d+ ms, done in \\d+ ms\n`));
    expect(w.runner.calls.filter((c) => c.line === 'nft -f -')).toHaveLength(2);
    expect(w.runner.calls.filter((c) => c.line === 'nft -f -').at(-1)?.input).toContain('mwan: strategy round-robin');

    w.prober.dead.add('isp1');
    w.prober.dead.add('isp2');
    await w.clock.advance(2000);
    await until('backup tier', () => w.out().includes('active links: backup (was '));
    // health.json is written after the apply that the line reports.
    const activeInHealth = () => {
      try {
        return (JSON.parse(readFileSync(join(w.dir, 'health.json'), 'utf8')) as { active: string[] }).active.join(',');
      } catch {
        return '';
      }
    };
    await until('health.json with the backup tier', () => activeInHealth() === 'backup');

    const status: string[] = [];
    const container = wire(rootContainer.createChildContainer());
    container.register(RUNNER, { useValue: new RecordingRunner(w.kernel.respond) });
    container.register(SYSCTLS, { useValue: w.kernel });
    const code = await main(['status', '--config', w.config, '--run-dir', w.dir], { container, env: {}, io: { out: (t) => status.push(t), err: (t) => status.push(t) } });
    expect(code).toBe(0);
    const text = status.join('');
    expect(text).toMatch(/health: mwan watch \(pid \d+\) running, .* new connections use backup/);
    expect(text).toMatch(/^isp1 +0 +down +\S+ +- +100% +\d+ +timeout$/m);
    expect(text).toMatch(/^backup +1 +up /m);

    w.prober.dead.add('backup');
    await w.clock.advance(2000);
    await until('all down', () => w.out().includes('all links down: keeping backup in use'));
    w.signals.emit('SIGINT');
    expect(await w.exit).toBe(0);
  });

  it('exits 2 on a bad config at start, having changed nothing', async () => {
    const w = start('bad');
    writeFileSync(w.config, '{}');
    // The config is read after the handlers are in place; overwrite it before that happens.
    expect(await w.exit).toBe(2);
    expect(w.kernel.table).toBeNull();
    expect(w.err()).toMatch(/^mwan: /);
  });
});
