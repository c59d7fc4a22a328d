import { errorMessage, MwanError, sysctlName } from '@mwan/core';
import { commandLine, IpRoute2, NftTable, routeEntryFromKernel, ruleEntryFromKernel, type SysctlStore } from '@mwan/iproute2';
import { readIpState } from './ip-sync.js';
import { acquireLock } from './lock.js';
import { readPendingConfirm, removePendingConfirm } from './pending-confirm.js';
import { readJournal, readState, recordedSysctls, removeJournal, removeState } from './state-file.js';

export interface DownRequest {
  runDir: string;
  waitSeconds: number;
}

export interface DownReport {
  /** Every change, in order, as the command that makes it. */
  actions: string[];
  /** Sysctls left as they are because someone changed them after mwan did. */
  kept: string[];
}

/**
 * Removes exactly what mwan created: its table, the rules and routes stamped proto 109 (found in
 * the kernel, so an interrupted apply is cleaned up too), and the sysctls it changed, when they
 * still hold the value mwan set. Everything else on the router is left alone.
 */
export class DownEngine {
  constructor(
    private readonly ip: IpRoute2,
    private readonly nft: NftTable,
    private readonly sysctls: SysctlStore,
  ) {}

  async down(request: DownRequest): Promise<DownReport> {
    const lock = await acquireLock(request.runDir, { waitSeconds: request.waitSeconds });
    try {
      const actions: string[] = [];
      const kept: string[] = [];
      const problems: string[] = [];
      const attempt = async (what: string, action: () => Promise<void>) => {
        try {
          await action();
          actions.push(what);
        } catch (error) {
          problems.push(`${what}: ${errorMessage(error)}`);
        }
      };
      const records = recordedSysctls(await readState(request.runDir), await readJournal(request.runDir));

      if ((await this.nft.current()) !== null) {
        await attempt('nft delete table inet mwan', () => this.nft.load(NftTable.removeScript()));
      }
      // Rules first: no packet is sent to a table after its route is gone.
      const state = await readIpState(this.ip);
      const removals = [...state.ownedRules.map(ruleEntryFromKernel), ...state.ownedRoutes.map(routeEntryFromKernel)].map((entry) => entry.del);
      const failed = await this.ip.ipEach(removals);
      for (const args of removals) {
        const failure = failed.find((f) => f.args === args);
        if (failure) problems.push(`${commandLine('ip', args)}: ${failure.message}`);
        else actions.push(commandLine('ip', args));
      }
      for (const record of records.values()) {
        const current = await this.sysctls.read(record.path);
        if (current !== record.value) {
          if (current !== undefined) kept.push(`${sysctlName(record.path)}=${current} (mwan set ${record.value}, it was ${record.previous})`);
          continue;
        }
        await attempt(`sysctl -w ${sysctlName(record.path)}=${record.previous}`, () => this.sysctls.write(record.path, record.previous));
      }
      if (problems.length) throw new MwanError('runtime', [...problems.map((p) => `down: ${p}`), 'run "mwan down" again once the cause is fixed; state.json is kept']);
      // A revert at the deadline would bring back what down just removed.
      if (await readPendingConfirm(request.runDir).then((pending) => pending !== null, () => true)) {
        await removePendingConfirm(request.runDir);
        actions.push('cancel the revert waiting for "mwan confirm" (confirm.json)');
      }
      await removeState(request.runDir);
      await removeJournal(request.runDir);
      return { actions, kept };
    } finally {
      await lock.release();
    }
  }
}
