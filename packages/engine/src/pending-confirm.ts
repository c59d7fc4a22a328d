import { rm } from 'node:fs/promises';
import { confirmPath, readJson, writeJsonAtomic } from './run-dir.js';
import type { MwanState, Snapshot } from './state-file.js';
import type { SysctlWrite } from './sysctl-plan.js';

/**
 * An `apply --confirm` waiting for `mwan confirm`: what the router looked like before it, so a
 * detached timer can put that back at the deadline even after the applying process is gone.
 * The file exists from before the first change until the confirmation or the revert.
 */
export interface PendingConfirm {
  version: 1;
  /** Names this pending change: a timer only ever reverts the one it was started for. */
  token: string;
  /** When the timer reverts, ISO time. */
  deadline: string;
  seconds: number;
  /** Pid of the apply that asked, and of the timer once it runs. */
  pid: number;
  timerPid?: number;
  /** The router before the first unconfirmed apply: nft table, owned rules and routes. */
  snapshot: Snapshot;
  /** state.json before it (null: there was none). */
  previousState: MwanState | null;
  /** Sysctls written since, to be given their `before` back; the earliest write of a path wins. */
  sysctls: SysctlWrite[];
  /**
   * With `mwan watch`: the config it held before the first unconfirmed change (its path, its text
   * as read then, an `apply --strategy`). A daemon started while the change waits, its timer
   * gone with the daemon before it, takes the revert over and keeps this config after it.
   */
  held?: HeldConfigRecord;
}

export interface HeldConfigRecord {
  path: string;
  text?: string;
  strategy?: string;
}

export const readPendingConfirm = (runDir: string) => readJson<PendingConfirm>(confirmPath(runDir));
export const writePendingConfirm = (runDir: string, pending: PendingConfirm) => writeJsonAtomic(confirmPath(runDir), pending);
export const removePendingConfirm = (runDir: string) => rm(confirmPath(runDir), { force: true });

/** Writes of a later apply join those recorded: the value before the first one is what a revert restores. */
export function mergeSysctlWrites(recorded: readonly SysctlWrite[], added: readonly SysctlWrite[]): SysctlWrite[] {
  const out = new Map<string, SysctlWrite>();
  for (const write of recorded) out.set(write.path, write);
  for (const write of added) {
    const first = out.get(write.path);
    out.set(write.path, first ? { path: write.path, value: write.value, before: first.before } : write);
  }
  return [...out.values()];
}
