import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

/** A reader never sees half a file: write a temporary file, then rename it over the old one. */
export async function writeJsonAtomic(path: string, data: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o644 });
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw runtimeError(`cannot write ${path}: ${(error as Error).message}`, error);
  }
}

/** The parsed file, or null when it does not exist. A corrupt file is an error, not an absence. */
export async function readJson<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw runtimeError(`cannot read ${path}: ${(error as Error).message}`, error);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw runtimeError(`${path} is not valid JSON (${(error as Error).message}); remove it to start afresh`, error);
  }
}

export const statePath = (runDir: string) => join(runDir, 'state.json');
export const journalPath = (runDir: string) => join(runDir, 'journal.json');
export const lockPath = (runDir: string) => join(runDir, 'lock');
export const confirmPath = (runDir: string) => join(runDir, 'confirm.json');
export const confirmLogPath = (runDir: string) => join(runDir, 'confirm.log');
