import { closeSync, openSync } from 'node:fs';
import { execa } from 'execa';
import { runtimeError } from '@mwan/core';
import { confirmLogPath } from './run-dir.js';

/**
 * Starts the process that reverts a pending `apply --confirm` at its deadline. The engine is given
 * DetachedRevertTimer by the composition root; tests give their own.
 */
export interface RevertTimer {
  /** Returns the timer's pid. */
  start(runDir: string, token: string): Promise<number>;
}

/**
 * execa's types take a plain `number` for possibly 0 (an input); a descriptor from openSync never
 * is one of the standard three.
 */
type LogFd = 3;

/**
 * The timer is `mwan confirm-timer` in a process of its own: detached (a session of its own, so
 * the hang-up of the operator's terminal does not reach it), not waited for, and writing to
 * confirm.log in the run dir, so it outlives the apply that started it. It inherits the network
 * namespace, which is the router it reverts.
 */
export class DetachedRevertTimer implements RevertTimer {
  /** `mwanBin`: the CLI's entry script, which the composition root knows and this package does not. */
  constructor(private readonly mwanBin: string) {}

  async start(runDir: string, token: string): Promise<number> {
    // A descriptor of the log itself: with a pipe, or execa's `{ file }` (which the parent writes
    // through), the applying process would stay alive until the timer ends.
    let log: LogFd;
    try {
      log = openSync(confirmLogPath(runDir), 'a', 0o644) as LogFd;
    } catch (error) {
      throw runtimeError(`cannot open ${confirmLogPath(runDir)}: ${(error as Error).message}`, error);
    }
    const spawn = () => execa(process.execPath, [this.mwanBin, '--run-dir', runDir, 'confirm-timer', '--token', token], {
      detached: true,
      cleanup: false,
      stdin: 'ignore',
      stdout: log,
      stderr: log,
      reject: false,
    });
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn();
    } finally {
      // The child has its own copy of the descriptor.
      closeSync(log);
    }
    child.unref();
    // Its outcome goes to the log; the promise only must not count as unhandled.
    void child.catch(() => undefined);
    if (child.pid === undefined) throw runtimeError(`cannot start the revert timer (${process.execPath} ${this.mwanBin})`);
    return child.pid;
  }
}
