import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKernel, RecordingRunner } from '@mwan/iproute2';
import { createEngines } from './engines.js';
import type { ApplyRequest } from './apply-engine.js';
import { readPendingConfirm } from './pending-confirm.js';
import type { RevertTimer } from './revert-timer.js';
import { confirmPath, journalPath, lockPath, statePath } from './run-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-confirm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

const link = (n: number, extra: object = {}) => ({ name: `isp${n}`, interface: `eth${n}`, gateway: `10.37.${n}.1`, ...extra });
function configFile(links: object[], strategy = 'round-robin'): string {
  const path = join(tmp, `config-${++counter}.json`);
  writeFileSync(path, JSON.stringify({ lan: ['eth0'], links, strategy }));
  return path;
}
const THREE = () => configFile([link(1), link(2), link(3)]);
// isp2 goes (its connections too), isp4 comes with mark 9, isp3 changes weight.
const CHANGED = () => configFile([link(1), link(3, { weight: 5 }), link(4, { mark: 9 })], 'weighted');

/** A fake router with the engines wired to it; the timer is recorded, not started. */
function router() {
  const kernel = new FakeKernel({ sysctls: { 'net/ipv4/ip_forward': '0', 'net/ipv4/conf/eth4/rp_filter': '1' }, conntrack: { 2: 5, 9: 0 } });
  const runner = new RecordingRunner(kernel.respond);
  const timers: Array<{ runDir: string; token: string }> = [];
  const timer: RevertTimer = { start: async (runDir, token) => (timers.push({ runDir, token }), 4242) };
  const engines = createEngines({ runner, sysctls: kernel, timer });
  const runDir = join(tmp, `run-${++counter}`);
  const apply = (configPath: string, extra: Partial<ApplyRequest> = {}) => engines.apply.apply({ configPath, runDir, waitSeconds: 0, ...extra });
  const confirmEngine = engines.confirm;
  const sysctls = async () => Promise.all(['net/ipv4/ip_forward', ...[1, 2, 3, 4].map((n) => `net/ipv4/conf/eth${n}/rp_filter`)].map((p) => kernel.read(p)));
  // The fake kernel lists routes in insertion order; the real one by table, whatever the order they came in.
  const snapshot = async () => structuredClone({ rules: kernel.rules, routes: [...kernel.routes].sort((a, b) => Number(a.table) - Number(b.table)), table: kernel.table, sysctls: await sysctls() });
  const stateText = () => (existsSync(statePath(runDir)) ? readFileSync(statePath(runDir), 'utf8') : null);
  /** Runs the timer with a clock that is already past the deadline. */
  const expire = (token: string) => confirmEngine.runTimer(runDir, token, { now: () => Date.now() + 86_400_000, lockWaitSeconds: 0 });
  return { kernel, runner, runDir, timers, apply, confirmEngine, snapshot, stateText, expire };
}

describe('apply --confirm', () => {
  it('starts the timer before the first change and sets the deadline once the change is complete', async () => {
    const r = router();
    await r.apply(THREE());
    const before = Date.now();
    const report = await r.apply(CHANGED(), { confirmSeconds: 60 });
    const pending = await readPendingConfirm(r.runDir);
    expect(r.timers).toEqual([{ runDir: r.runDir, token: pending?.token }]);
    expect(pending).toMatchObject({ seconds: 60, timerPid: 4242, pid: process.pid });
    expect(Date.parse(pending!.deadline)).toBeGreaterThanOrEqual(before + 60_000);
    expect(report.confirm).toEqual({ deadline: pending!.deadline, seconds: 60 });
    expect(existsSync(journalPath(r.runDir))).toBe(false);
  });

  it('reverts at the deadline to exactly the state before: table, rules, routes, sysctls and state.json', async () => {
    const r = router();
    await r.apply(THREE());
    const before = await r.snapshot();
    const state = r.stateText();
    await r.apply(CHANGED(), { confirmSeconds: 60 });
    expect(await r.snapshot()).not.toEqual(before);
    const { token } = (await readPendingConfirm(r.runDir))!;

    const result = await r.expire(token);
    expect(result).toMatchObject({ outcome: 'reverted', report: { problems: [] } });
    expect(await r.snapshot()).toEqual(before);
    expect(r.stateText()).toBe(state);
    for (const path of [confirmPath(r.runDir), journalPath(r.runDir), lockPath(r.runDir)]) expect(existsSync(path)).toBe(false);
    // Mark 9 (isp4) goes away with the revert: its connections are deleted, as an apply would.
    expect(r.runner.commandLines.filter((l) => l.startsWith('conntrack -D')).slice(-1)).toEqual(['conntrack -D -m 9/255']);
  });

  it('tells the daemon the router is back while the revert still holds the lock', async () => {
    const r = router();
    await r.apply(THREE());
    const before = await r.snapshot();
    await r.apply(CHANGED(), { confirmSeconds: 60 });
    const { token } = (await readPendingConfirm(r.runDir))!;
    const seen: Array<{ locked: boolean; back: boolean }> = [];
    const result = await r.confirmEngine.runTimer(r.runDir, token, {
      now: () => Date.now() + 86_400_000, lockWaitSeconds: 0,
      onReverted: () => void seen.push({ locked: existsSync(lockPath(r.runDir)), back: r.kernel.table === before.table && JSON.stringify(r.kernel.rules) === JSON.stringify(before.rules) }),
    });
    expect(result.outcome).toBe('reverted');
    expect(seen).toEqual([{ locked: true, back: true }]);
  });

  it('reverts to no mwan at all when there was none before', async () => {
    const r = router();
    const before = await r.snapshot();
    await r.apply(THREE(), { confirmSeconds: 5 });
    await r.expire((await readPendingConfirm(r.runDir))!.token);
    expect(await r.snapshot()).toEqual(before);
    expect(r.stateText()).toBeNull();
  });

  it('keeps the change when confirmed: the timer then finds nothing to revert', async () => {
    const r = router();
    await r.apply(THREE());
    await r.apply(CHANGED(), { confirmSeconds: 60 });
    const after = await r.snapshot();
    const { token } = (await readPendingConfirm(r.runDir))!;
    await expect(r.confirmEngine.confirm(r.runDir, 0)).resolves.toMatchObject({ pid: process.pid });
    expect(await r.expire(token)).toEqual({ outcome: 'confirmed' });
    expect(await r.snapshot()).toEqual(after);
    await expect(r.confirmEngine.confirm(r.runDir, 0)).rejects.toThrow(/nothing to confirm/);
  });

  it('polls until the deadline and reverts only then', async () => {
    const r = router();
    await r.apply(THREE(), { confirmSeconds: 30 });
    const { token, deadline } = (await readPendingConfirm(r.runDir))!;
    let clock = Date.parse(deadline) - 1000;
    const sleeps: number[] = [];
    const result = await r.confirmEngine.runTimer(r.runDir, token, {
      now: () => clock,
      monotonic: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      pollMs: 400,
      lockWaitSeconds: 0,
    });
    expect(sleeps).toEqual([400, 400, 200]);
    expect(result.outcome).toBe('reverted');
  });

  it('reverts on time whatever the wall clock does once the deadline is seen: stepped back an hour or forward a day', async () => {
    for (const step of [-3_600_000, 86_400_000]) {
      const r = router();
      await r.apply(THREE(), { confirmSeconds: 30 });
      const { token, deadline } = (await readPendingConfirm(r.runDir))!;
      let monotonic = 1_000_000;
      let wall = Date.parse(deadline) - 1000;
      const sleeps: number[] = [];
      const result = await r.confirmEngine.runTimer(r.runDir, token, {
        now: () => wall,
        monotonic: () => monotonic,
        sleep: async (ms) => {
          // The step comes during the first wait, as `date -s` would.
          if (!sleeps.length) wall += step;
          sleeps.push(ms);
          wall += ms;
          monotonic += ms;
        },
        pollMs: 400,
        lockWaitSeconds: 0,
      });
      expect({ step, sleeps, outcome: result.outcome }).toEqual({ step, sleeps: [400, 400, 200], outcome: 'reverted' });
    }
  });

  it('a second --confirm takes over: the first timer stands down, the revert goes back before the first', async () => {
    const r = router();
    await r.apply(THREE());
    const before = await r.snapshot();
    await r.apply(CHANGED(), { confirmSeconds: 60 });
    const first = (await readPendingConfirm(r.runDir))!.token;
    await r.apply(configFile([link(1)]), { confirmSeconds: 60 });
    const second = (await readPendingConfirm(r.runDir))!.token;
    expect(second).not.toBe(first);
    expect(await r.expire(first)).toEqual({ outcome: 'confirmed' });
    await r.expire(second);
    expect(await r.snapshot()).toEqual(before);
  });

  it('an apply without --confirm meanwhile says it is reverted too, and its sysctls are', async () => {
    const r = router();
    await r.apply(THREE());
    const before = await r.snapshot();
    await r.apply(configFile([link(1)]), { confirmSeconds: 60 });
    const report = await r.apply(CHANGED());
    expect(report.notes).toEqual([expect.stringMatching(/waiting: unless "mwan confirm" runs by .*, this apply is reverted with it/)]);
    expect(r.kernel.sysctls.get('net/ipv4/conf/eth4/rp_filter')).toBe('2');
    await r.expire((await readPendingConfirm(r.runDir))!.token);
    expect(await r.snapshot()).toEqual(before);
  });

  it('leaves nothing pending when the apply itself fails and is rolled back', async () => {
    const r = router();
    await r.apply(THREE());
    const before = await r.snapshot();
    r.kernel.failOn('ip route replace default via 10.37.4.1', 'Error: Nexthop has invalid gateway.', 1);
    await expect(r.apply(CHANGED(), { confirmSeconds: 60 })).rejects.toMatchObject({ problems: [expect.stringContaining('step "routes"'), 'the previous state was restored'] });
    expect(existsSync(confirmPath(r.runDir))).toBe(false);
    expect(await r.snapshot()).toEqual(before);
    expect(await r.expire(r.timers[0].token)).toEqual({ outcome: 'confirmed' });
  });

  it('does not apply at all when the timer cannot be started', async () => {
    const r = router();
    await r.apply(THREE());
    const before = await r.snapshot();
    const failing = createEngines({ runner: new RecordingRunner(r.kernel.respond), sysctls: r.kernel, timer: { start: async () => { throw new Error('spawn node ENOENT'); } } });
    await expect(failing.apply.apply({ configPath: CHANGED(), runDir: r.runDir, waitSeconds: 0, confirmSeconds: 60 }))
      .rejects.toMatchObject({ problems: [expect.stringContaining('apply failed at step "confirm": spawn node ENOENT'), 'the previous state was restored'] });
    expect(await r.snapshot()).toEqual(before);
    expect(existsSync(confirmPath(r.runDir))).toBe(false);
  });

  it('down cancels a pending revert, which would bring back what it removed', async () => {
    const r = router();
    await r.apply(THREE(), { confirmSeconds: 60 });
    const { token } = (await readPendingConfirm(r.runDir))!;
    const report = await createEngines({ runner: new RecordingRunner(r.kernel.respond), sysctls: r.kernel }).down.down({ runDir: r.runDir, waitSeconds: 0 });
    expect(report.actions).toContain('cancel the revert waiting for "mwan confirm" (confirm.json)');
    expect(await r.expire(token)).toEqual({ outcome: 'confirmed' });
    expect(r.kernel.table).toBeNull();
  });
});
