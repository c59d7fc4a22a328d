import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runtimeError } from '@mwan/core';

export const DEFAULT_RUN_DIR = '/run/mwan';

/** `--run-dir`, then `MWAN_RUN_DIR`, then /run/mwan: parallel test routers each get their own. */
export function resolveRunDir(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option || env.MWAN_RUN_DIR || DEFAULT_RUN_DIR;
}

export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw runtimeError(`cannot create the run directory ${dir}: ${(error as Error).message}`, error);
  }
}

export { readJson, writeJsonAtomic } from '@mwan/core';

export const statePath = (runDir: string) => join(runDir, 'state.json');
export const journalPath = (runDir: string) => join(runDir, 'journal.json');
export const lockPath = (runDir: string) => join(runDir, 'lock');
export const confirmPath = (runDir: string) => join(runDir, 'confirm.json');
export const confirmLogPath = (runDir: string) => join(runDir, 'confirm.log');
/** Where `mwan watch` listens for the commands it carries out itself (owner root, mode 0600). */
export const socketPath = (runDir: string) => join(runDir, 'mwan.sock');
