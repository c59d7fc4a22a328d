import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InjectionToken } from 'tsyringe';
import { runtimeError } from '@mwan/core';

/**
 * Kernel parameters by their /proc/sys path (`net/ipv4/conf/eth0.10/rp_filter`): a path keeps the
 * dots of interface names that the dotted sysctl(8) spelling would have to escape.
 */
export interface SysctlStore {
  /** The current value, or undefined when the parameter does not exist (an absent interface). */
  read(path: string): Promise<string | undefined>;
  write(path: string, value: string): Promise<void>;
}

export const SYSCTLS: InjectionToken<SysctlStore> = Symbol.for('mwan.SysctlStore');

/** Reads and writes /proc/sys of the network namespace mwan runs in. */
export class ProcSysctlStore implements SysctlStore {
  constructor(private readonly root = '/proc/sys') {}

  async read(path: string): Promise<string | undefined> {
    try {
      // /proc/sys is answered from memory in microseconds: read at once, not as three trips
      // through the thread pool each (an apply on 64 links reads some 130 of them).
      return readFileSync(this.file(path), 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw runtimeError(`cannot read ${this.file(path)}: ${(error as Error).message}`, error);
    }
  }

  async write(path: string, value: string): Promise<void> {
    try {
      await writeFile(this.file(path), `${value}\n`);
    } catch (error) {
      throw runtimeError(`cannot write ${value} to ${this.file(path)}: ${(error as Error).message}`, error);
    }
  }

  private file(path: string): string {
    // Paths come from the renderer and are built from validated interface names; refuse anything else.
    if (path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw runtimeError(`invalid sysctl path ${JSON.stringify(path)}`);
    }
    return join(this.root, path);
  }
}
