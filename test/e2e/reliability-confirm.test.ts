// Commit-confirmed: `mwan apply --confirm S` reverts to exactly the state before unless
// `mwan confirm` runs within S seconds; the revert is made by a detached timer, so it happens
// even when the applying process is gone, killed or not.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Lab } from '@mwan/lab';
import { createLab, leftovers, pollUntil } from './helpers.js';
import {
  alive, FaultTools, faultState, killIfAlive, reached, routerState, routerSysctls, runDirFiles, startMwan,
} from './reliability-helpers.js';

const PREFIX = 'mwrelconfirm';
jest.setTimeout(60_000);

let lab: Lab;
let faults: FaultTools;
let A: string;
let B: string;
const timers = new Set<number>();

const snapshot = async () => ({ state: await routerState(lab), sysctls: await routerSysctls(lab), stateJson: runDirFiles(lab)['state.json'] });

/** The pending change's timer pid and deadline, as apply wrote them. */
function pending(): { timerPid: number; deadline: string } {
  const file = JSON.parse(readFileSync(join(lab.runDir, 'confirm.json'), 'utf8')) as { timerPid: number; deadline: string };
  timers.add(file.timerPid);
  return file;
}

const timerGone = (pid: number, timeoutMs: number) => pollUntil(async () => (alive(pid) ? undefined : true), `revert timer ${pid} to end`, timeoutMs, 50);

beforeAll(async () => {
  lab = await createLab(PREFIX, { links: 3 });
  faults = new FaultTools();
  A = await lab.configFor({ strategy: 'weighted', weights: [1, 2, 3] }, 'a.json');
  B = await lab.configFor({ strategy: 'round-robin', only: [1, 3] }, 'b.json');
});

afterAll(async () => {
  for (const pid of timers) killIfAlive(pid);
  faults?.remove();
  await lab?.destroy();
  expect(await leftovers(PREFIX)).toEqual([]);
});

describe('apply --confirm', () => {
  it('without "mwan confirm", puts back exactly the state before, after the applying process has exited', async () => {
    await lab.mwanOk(['--config', A, 'apply']);
    const before = await snapshot();
    const run = await lab.mwanOk(['--config', B, 'apply', '--confirm', '2']);
    expect(run.stdout).toMatch(/run "mwan confirm" within 2 s \(by .*\), or this is reverted/);
    const { timerPid } = pending();
    expect(alive(timerPid)).toBe(true);
    expect((await snapshot()).state).not.toEqual(before.state);

    await timerGone(timerPid, 20_000);
    expect(await snapshot()).toEqual(before);
    expect(runDirFiles(lab)).toMatchObject({ 'confirm.json': null, 'journal.json': null, lock: null });
    expect(readFileSync(join(lab.runDir, 'confirm.log'), 'utf8')).toMatch(/reverted to the state before apply --confirm/);
  });

  it('with "mwan confirm" in time, keeps the change past the deadline', async () => {
    await lab.mwanOk(['--config', A, 'apply']);
    await lab.mwanOk(['--config', B, 'apply', '--confirm', '3']);
    const after = await snapshot();
    const { timerPid, deadline } = pending();
    const confirmed = await lab.mwanOk(['confirm']);
    expect(confirmed.stdout).toMatch(/^confirmed: the change applied by pid \d+ stays/);
    await timerGone(timerPid, 10_000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(deadline) - Date.now()) + 500));
    expect(await snapshot()).toEqual(after);
    expect(runDirFiles(lab)['confirm.json']).toBeNull();

    const again = await lab.mwan(['confirm']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/^mwan: nothing to confirm: no change applied with --confirm is waiting/);
  });

  it('reverts even when the apply was killed midway (SIGKILL after the table swap)', async () => {
    await lab.mwanOk(['--config', A, 'apply']);
    const before = await snapshot();
    const state = faultState(lab, 'confirm-kill');
    const run = startMwan(lab, ['--config', B, 'apply', '--confirm', '2'], faults.env({ tool: 'ip', match: 'rule del', action: 'hang-after' }, state));
    const tool = await reached(state);
    run.child.kill('SIGKILL');
    await run.result;
    killIfAlive(tool);
    const { timerPid } = pending();
    expect(runDirFiles(lab)['journal.json']).not.toBeNull();

    await timerGone(timerPid, 20_000);
    expect(await snapshot()).toEqual(before);
    expect(runDirFiles(lab)).toMatchObject({ 'confirm.json': null, 'journal.json': null, lock: null });
  });

  it('is refused with --dry-run, as a usage error', async () => {
    const run = await lab.mwan(['--config', B, 'apply', '--dry-run', '--confirm', '5']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/cannot be used with option '--dry-run'/);
  });
});
