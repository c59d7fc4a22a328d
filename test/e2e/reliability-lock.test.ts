// Concurrent applies and downs are serialized by the lock in the run dir: the second waits up to
// --wait seconds, then fails saying who holds the lock, having changed nothing.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Lab } from '@mwan/lab';
import { createLab, leftovers } from './helpers.js';
import { FaultTools, faultState, killIfAlive, reached, release, routerState, runDirFiles, startMwan, type Fault } from './reliability-helpers.js';

const PREFIX = 'mwrellock';
jest.setTimeout(60_000);

let lab: Lab;
let faults: FaultTools;
let A: string;
let B: string;

beforeAll(async () => {
  lab = await createLab(PREFIX, { links: 3 });
  faults = new FaultTools();
  A = await lab.configFor({ strategy: 'weighted', weights: [1, 2, 3] }, 'a.json');
  B = await lab.configFor({ strategy: 'round-robin', only: [1, 3] }, 'b.json');
});

afterAll(async () => {
  faults?.remove();
  await lab?.destroy();
  expect(await leftovers(PREFIX)).toEqual([]);
});

/** Holds the nft step of an apply of `config` until released: the lock is held all along. */
const PAUSE_AT_NFT: Fault = { tool: 'nft', match: '^nft -f -\\n[\\s\\S]*table inet mwan \\{', action: 'pause' };

/** An apply held inside its nft step; `finish()` lets it go on and returns its result. */
async function heldApply(config: string) {
  const state = faultState(lab, 'hold');
  const run = startMwan(lab, ['--config', config, 'apply'], faults.env(PAUSE_AT_NFT, state));
  let tool: number | undefined;
  try {
    tool = await reached(state);
  } catch (error) {
    run.child.kill('SIGKILL');
    throw error;
  }
  return {
    pid: run.child.pid as number,
    finish: async () => {
      release(state);
      return run.result;
    },
    kill: () => {
      run.child.kill('SIGKILL');
      killIfAlive(tool);
    },
  };
}

describe('the lock', () => {
  it('two applies started together both finish, one after the other, and leave what one apply leaves', async () => {
    await lab.mwanOk(['down']);
    await lab.mwanOk(['--config', A, 'apply']);
    const single = await routerState(lab);
    await lab.mwanOk(['down']);

    const runs = await Promise.all([startMwan(lab, ['--config', A, 'apply']).result, startMwan(lab, ['--config', A, 'apply']).result]);
    expect(runs.map((r) => [r.exitCode, r.stderr])).toEqual([[0, ''], [0, '']]);
    // The second found the first one's work done: nothing left to change.
    expect(runs.map((r) => r.stdout.includes('nothing to change; table inet mwan unchanged')).sort()).toEqual([false, true]);
    expect(await routerState(lab)).toEqual(single);
    expect(runDirFiles(lab)).toMatchObject({ 'journal.json': null, lock: null });
  });

  it('a second apply waits for the first, which holds the lock through all its steps', async () => {
    await lab.mwanOk(['--config', A, 'apply']);
    const first = await heldApply(B);
    try {
      expect(runDirFiles(lab).lock).toBe(`${first.pid}\n`);
      const during = await routerState(lab);
      const second = startMwan(lab, ['--config', A, 'apply', '--wait', '30']);
      // Still waiting after a second, having changed nothing.
      const early = await Promise.race([second.result, new Promise((resolve) => setTimeout(resolve, 1000, 'waiting'))]);
      expect(early).toBe('waiting');
      expect(await routerState(lab)).toEqual(during);

      const firstResult = await first.finish();
      expect(firstResult.exitCode).toBe(0);
      const secondResult = await second.result;
      expect(secondResult.exitCode).toBe(0);
      // It re-read the state the first left and went from there: back to A, in full.
      expect(secondResult.stdout).toContain('applied 3 links with strategy weighted');
      const after = await routerState(lab);
      await lab.mwanOk(['down']);
      await lab.mwanOk(['--config', A, 'apply']);
      const clean = await routerState(lab);
      // Rules of one priority are listed in the order they were added, which history decides.
      const sorted = (rules: string) => (JSON.parse(rules) as unknown[]).map((r) => JSON.stringify(r)).sort();
      expect({ ...after, rules: sorted(after.rules) }).toEqual({ ...clean, rules: sorted(clean.rules) });
    } finally {
      first.kill();
    }
  });

  it('gives up after --wait seconds with a message naming the holder, and changes nothing', async () => {
    await lab.mwanOk(['--config', A, 'apply']);
    const first = await heldApply(B);
    try {
      const during = await routerState(lab);
      const files = runDirFiles(lab);
      for (const args of [['--config', A, 'apply', '--wait', '1'], ['down', '--wait', '1']]) {
        const since = Date.now();
        const run = await startMwan(lab, args).result;
        const took = Date.now() - since;
        expect(run.exitCode).toBe(1);
        expect(run.stderr).toContain(`another mwan (pid ${first.pid}) holds ${lab.runDir}/lock; waited 1 s (see --wait)`);
        if (args[2] === 'apply') expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining('apply failed at step "lock"'), 'mwan: nothing was changed']);
        expect(took).toBeGreaterThanOrEqual(1000);
        expect(took).toBeLessThan(10_000);
        expect(await routerState(lab)).toEqual(during);
        expect(runDirFiles(lab)).toEqual(files);
      }
      expect((await first.finish()).exitCode).toBe(0);
    } finally {
      first.kill();
    }
  });
});
