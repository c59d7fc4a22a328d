import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runtimeError } from '@mwan/core';
import { ensureDir, lockPath } from './run-dir.js';

const POLL_MS = 100;

export interface LockOptions {
  /** How long to wait for another mwan to finish, in seconds. */
  waitSeconds: number;
  pid?: number;
  /** Whether a pid is alive; replaceable in tests. */
  isAlive?: (pid: number) => boolean;
}

export interface HeldLock {
  path: string;
  /** Another mwan held it first: what was read before waiting may be out of date. */
  waited: boolean;
  release(): Promise<void>;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A directory lock under the run dir holding the owner's pid. It is created complete (pid
 * inside) under a temporary name and renamed into place, so no one ever sees a lock without a
 * pid; renaming onto an existing lock fails, which is the mutual exclusion. A lock whose pid is
 * dead (a killed mwan) is stale and taken over.
 */
export async function acquireLock(runDir: string, options: LockOptions): Promise<HeldLock> {
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? processAlive;
  const path = lockPath(runDir);
  // Monotonic: a wall-clock step must not make --wait last an hour, or nothing.
  const deadline = performance.now() + Math.max(0, options.waitSeconds) * 1000;
  await ensureDir(runDir);
  let waited = false;
  for (;;) {
    if (await tryCreate(runDir, path, pid)) return { path, waited, release: () => release(path, pid) };
    waited = true;
    const holder = await readPid(path);
    // A lock is created with its pid inside, so one without a readable pid is debris as well.
    if (holder === undefined || !isAlive(holder)) {
      await takeOverStale(runDir, path, holder);
      continue;
    }
    if (performance.now() >= deadline) {
      throw runtimeError(`another mwan (pid ${holder}) holds ${path}; waited ${options.waitSeconds} s (see --wait)`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function tryCreate(runDir: string, path: string, pid: number): Promise<boolean> {
  const tmp = await mkdtemp(join(runDir, '.lock-'));
  try {
    await writeFile(join(tmp, 'pid'), `${pid}\n`);
    await rename(tmp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw runtimeError(`cannot create the lock ${path}: ${(error as Error).message}`, error);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The pid of another live mwan holding the lock of `runDir` now, or undefined. */
export async function lockHolder(runDir: string, isAlive: (pid: number) => boolean = processAlive): Promise<number | undefined> {
  const holder = await readPid(lockPath(runDir));
  return holder !== undefined && holder !== process.pid && isAlive(holder) ? holder : undefined;
}

async function readPid(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(join(path, 'pid'), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Moves the stale lock aside under a unique name and checks that what was moved is the dead
 * owner's; if another process replaced it in between, the live lock is put back.
 */
async function takeOverStale(runDir: string, path: string, deadPid: number | undefined): Promise<void> {
  const aside = join(runDir, `.stale-${process.pid}-${Date.now()}`);
  try {
    await rename(path, aside);
  } catch {
    return; // someone else took it over first
  }
  if ((await readPid(aside)) !== deadPid) {
    await rename(aside, path).catch(() => undefined);
    return;
  }
  await rm(aside, { recursive: true, force: true });
}

async function release(path: string, pid: number): Promise<void> {
  if ((await readPid(path)) === pid) await rm(path, { recursive: true, force: true });
}
