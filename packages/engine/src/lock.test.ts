import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, processAlive } from './lock.js';
import { lockPath } from './run-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-lock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const runDir = () => join(tmp, `run-${++n}`);

describe('the run-dir lock', () => {
  it('is held until released, and leaves nothing behind', async () => {
    const dir = runDir();
    const lock = await acquireLock(dir, { waitSeconds: 0 });
    expect(existsSync(join(lockPath(dir), 'pid'))).toBe(true);
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('makes a second taker wait, then fail naming the holder', async () => {
    const dir = runDir();
    const first = await acquireLock(dir, { waitSeconds: 0, pid: 4242, isAlive: () => true });
    const started = Date.now();
    await expect(acquireLock(dir, { waitSeconds: 0.3, isAlive: () => true })).rejects.toThrow(`another mwan (pid 4242) holds ${lockPath(dir)}; waited 0.3 s`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await first.release();
  });

  it('is granted to a waiter as soon as the holder releases it', async () => {
    const dir = runDir();
    const first = await acquireLock(dir, { waitSeconds: 0 });
    setTimeout(() => void first.release(), 150);
    const second = await acquireLock(dir, { waitSeconds: 5, pid: 7 });
    await second.release();
    expect(existsSync(lockPath(dir))).toBe(false);
  });

  it('takes over a lock whose owner is dead', async () => {
    const dir = runDir();
    mkdirSync(lockPath(dir), { recursive: true });
    writeFileSync(join(lockPath(dir), 'pid'), '999999\n');
    const lock = await acquireLock(dir, { waitSeconds: 0, isAlive: (pid) => pid !== 999999 });
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('gives exactly one of many concurrent takers the lock', async () => {
    const dir = runDir();
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => acquireLock(dir, { waitSeconds: 0, pid: 100 + i, isAlive: () => true })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('knows this process is alive and a reaped one is not', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 1)).toBe(false);
  });
});
