import { errorMessage, sysctlName } from '@mwan/core';
import { NftTable, type IpRoute2, type SysctlStore } from '@mwan/iproute2';
import { entriesFromKernel, syncIpAdditions, syncIpRemovals } from './ip-sync.js';
import { fingerprintListed } from './nft-fingerprint.js';
import type { Snapshot } from './state-file.js';
import type { SysctlWrite } from './sysctl-plan.js';

export interface RestoreTools {
  ip: IpRoute2;
  nft: NftTable;
  sysctls: SysctlStore;
}

export interface RestoreRequest {
  snapshot: Snapshot;
  /** Sysctl writes to undo, oldest first: each gets its `before` back if it still holds `value`. */
  sysctls: readonly SysctlWrite[];
  /**
   * `always`: put the snapshot's table back (an apply loaded another); `changed`: only when the
   * table differs from the snapshot, counters aside, so an unchanged table keeps counting;
   * `never`: the table was not touched.
   */
  nft: 'changed' | 'always' | 'never';
}

/**
 * Brings the router back to a snapshot in the order an apply uses, so traffic keeps flowing:
 * missing routes and rules first, then the nft table in one transaction, then what the snapshot
 * did not have (and the order of rules of one priority), then sysctls. It goes on past a
 * failure and returns every problem, one line each.
 */
export async function restoreSnapshot(tools: RestoreTools, request: RestoreRequest): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, action: () => Promise<string[] | void>) => {
    try {
      for (const problem of (await action()) ?? []) problems.push(`${what}: ${problem}`);
    } catch (error) {
      problems.push(`${what}: ${oneLineMessage(error)}`);
    }
  };
  const target = entriesFromKernel(request.snapshot.rules, request.snapshot.routes);
  await attempt('rules and routes', () => syncIpAdditions(tools.ip, target));
  if (request.nft !== 'never') {
    await attempt('nft table', async () => {
      if (request.nft === 'changed' && sameTable(await tools.nft.current(), request.snapshot.nft)) return;
      await tools.nft.load(NftTable.restoreScript(request.snapshot.nft));
    });
  }
  await attempt('rules and routes', () => syncIpRemovals(tools.ip, target));
  for (const write of [...request.sysctls].reverse()) {
    await attempt(`sysctl ${sysctlName(write.path)}`, async () => {
      // Someone else's later change is theirs to keep.
      if ((await tools.sysctls.read(write.path)) === write.value) await tools.sysctls.write(write.path, write.before);
    });
  }
  return problems;
}

function sameTable(current: string | null, snapshot: string | null): boolean {
  if (current === null || snapshot === null) return current === snapshot;
  return fingerprintListed(current) === fingerprintListed(snapshot);
}

/** On one line: what restore and confirm report goes into a log line each. */
export const oneLineMessage = (error: unknown): string => errorMessage(error).replace(/\s*\n\s*/g, ' ');
