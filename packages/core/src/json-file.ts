import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { runtimeError } from './errors.js';

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

/**
 * The parsed file, or null when it does not exist. A corrupt file is an error, not an absence;
 * `check` may refuse a parsed value by throwing, and its message is reported with the path.
 */
export async function readJson<T>(path: string, check?: (data: T) => void, what = 'valid JSON'): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw runtimeError(`cannot read ${path}: ${(error as Error).message}`, error);
  }
  try {
    const data = JSON.parse(text) as T;
    check?.(data);
    return data;
  } catch (error) {
    throw runtimeError(`${path} is not ${what} (${(error as Error).message}); remove it to start afresh`, error);
  }
}
