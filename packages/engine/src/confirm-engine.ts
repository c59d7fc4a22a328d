import { hex, runtimeError } from '@mwan/core';
import { Conntrack, IpRoute2, NftTable, type SysctlStore } from '@mwan/iproute2';
import { addHolders, changedMarks, type MarkHolder } from './changed-marks.js';
import { readIpState } from './ip-sync.js';
import { acquireLock } from './lock.js';
import { readPendingConfirm, removePendingConfirm, type PendingConfirm } from './pending-confirm.js';
import { oneLineMessage, restoreSnapshot } from './restore.js';
import { readState, removeJournal, removeState, writeJournal, writeState, type MwanState } from './state-file.js';

export interface ConfirmReport {
  /** When the change would have been reverted. */
  deadline: string;
  /** Pid of the apply that asked for confirmation. */
  pid: number;
}

export interface RevertReport {
  deadline: string;
  /** Conntrack entries deleted, by mark: connections of links the revert takes away or moves. */
  conntrackDeleted: Record<string, number>;
  /** What could not be put back; empty when the revert is complete. */
  problems: string[];
}

export interface TimerOptions {
  /** How often the pending file is looked at. */
  pollMs?: number;
  /** How long the revert waits for another mwan holding the lock. */
  lockWaitSeconds?: number;
  /** Wall time, ms since the epoch: what the deadline in confirm.json is written in. */
  now?: () => number;
  /** A monotonic clock in ms (default performance.now()): what the wait is measured on. */
  monotonic?: () => number;
  /** Waits `ms` of monotonic time. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Called once a revert has put the router back, before it releases the lock, with the state
   * (state.json) it left: the daemon takes the config from before as its own there, so no check
   * made after the lock is free sees the revert as drift from the change it undid.
   */
  onReverted?: (restored: MwanState | null) => void;
}

export type TimerOutcome = { outcome: 'confirmed' } | { outcome: 'reverted'; report: RevertReport };

/**
 * Commit-confirmed: `mwan confirm` keeps a change applied with `--confirm`; the timer started by
 * that apply puts the router back as it was before it when the deadline passes unconfirmed.
 * Both take the run-dir lock, so a confirmation and a revert never cross.
 */
export class ConfirmEngine {
  constructor(
    private readonly ip: IpRoute2,
    private readonly nft: NftTable,
    private readonly conntrack: Conntrack,
    private readonly sysctls: SysctlStore,
  ) {}

  async confirm(runDir: string, waitSeconds: number): Promise<ConfirmReport> {
    const lock = await acquireLock(runDir, { waitSeconds });
    try {
      const pending = await readPendingConfirm(runDir);
      if (!pending) throw runtimeError(`nothing to confirm: no change applied with --confirm is waiting in ${runDir} (an earlier one may have been reverted: see confirm.log there)`);
      await removePendingConfirm(runDir);
      return { deadline: pending.deadline, pid: pending.pid };
    } finally {
      await lock.release();
    }
  }

  /**
   * The timer: watches confirm.json until it is gone or belongs to another apply (confirmed, or
   * a later `--confirm` took over), or until its deadline, then reverts. The deadline is read
   * each time, since the apply sets it once its change is complete.
   *
   * The deadline is wall time, for the person who reads it; the wait is not: a deadline is turned
   * into a point on the monotonic clock when first seen (within `pollMs` of being written), so a
   * wall-clock step after that neither holds the revert off for an hour nor brings it forward.
   */
  async runTimer(runDir: string, token: string, options: TimerOptions = {}): Promise<TimerOutcome> {
    const now = options.now ?? Date.now;
    const monotonic = options.monotonic ?? (() => performance.now());
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const pollMs = options.pollMs ?? 250;
    let anchored: { deadline: string; at: number } | undefined;
    for (;;) {
      const pending = await readPendingConfirm(runDir);
      if (pending?.token !== token) return { outcome: 'confirmed' };
      if (anchored?.deadline !== pending.deadline) anchored = { deadline: pending.deadline, at: monotonic() + Date.parse(pending.deadline) - now() };
      const left = anchored.at - monotonic();
      if (left <= 0) {
        const report = await this.revert(runDir, token, options.lockWaitSeconds ?? 60, options.onReverted);
        return report ? { outcome: 'reverted', report } : { outcome: 'confirmed' };
      }
      await sleep(Math.min(pollMs, left));
    }
  }

  /**
   * Puts back the state before the unconfirmed change: the nft table, the owned rules and routes
   * (rule order included), the sysctls written since and state.json; deletes the connections of
   * marks that change meaning. Returns null when the change was confirmed meanwhile.
   */
  async revert(runDir: string, token: string, waitSeconds: number, onReverted?: (restored: MwanState | null) => void): Promise<RevertReport | null> {
    const lock = await acquireLock(runDir, { waitSeconds });
    try {
      const pending = await readPendingConfirm(runDir);
      if (pending?.token !== token) return null;
      const current = await readState(runDir);
      // Should the timer die midway, the next apply or down sees an interrupted change and repairs it.
      const [table, state] = await Promise.all([this.nft.current(), readIpState(this.ip)]);
      await writeJournal(runDir, {
        version: 1, pid: process.pid, started: new Date().toISOString(), step: 'revert',
        snapshot: { nft: table, rules: state.ownedRules, routes: state.ownedRoutes }, pendingSysctls: [], links: current?.links ?? [],
      });
      const problems = await restoreSnapshot({ ip: this.ip, nft: this.nft, sysctls: this.sysctls }, { snapshot: pending.snapshot, sysctls: pending.sysctls, nft: 'changed' });
      const conntrackDeleted = await this.flushMoved(current?.links ?? [], pending, problems, current?.markMask);
      if (!problems.length) {
        await (pending.previousState ? writeState(runDir, pending.previousState) : removeState(runDir));
        await removeJournal(runDir);
      }
      await removePendingConfirm(runDir);
      onReverted?.(problems.length ? current : pending.previousState);
      return { deadline: pending.deadline, conntrackDeleted, problems };
    } finally {
      await lock.release();
    }
  }

  /** Connections marked for a link that the restored state does not have at that mark would go astray. */
  private async flushMoved(now: readonly MarkHolder[], pending: PendingConfirm, problems: string[], mask?: number): Promise<Record<string, number>> {
    const restored = pending.previousState?.links ?? [];
    const marks = changedMarks(restored, addHolders(new Map(), now));
    const deleted: Record<string, number> = {};
    for (const mark of marks) {
      try {
        deleted[hex(mark)] = await this.conntrack.deleteMark(mark, mask);
      } catch (error) {
        problems.push(`conntrack: ${oneLineMessage(error)}`);
      }
    }
    return deleted;
  }
}
