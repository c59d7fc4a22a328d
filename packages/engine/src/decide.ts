import type { Rendered } from '@mwan/core';
import { assertTablesFree } from '@mwan/iproute2';
import { addHolders, changedMarks, type MarkHolder } from './changed-marks.js';
import { entriesFromSpecs, planIp, type IpPlan, type IpState } from './ip-sync.js';
import { fingerprintListed, fingerprintRendered } from './nft-fingerprint.js';
import { recordedSysctls, type Journal, type MwanState } from './state-file.js';
import { decideSysctls, sysctlPathsFor, type SysctlDecision, type SysctlValues } from './sysctl-plan.js';

/** What the router should look like: the rendered state, and which link holds which mark. */
export interface DesiredState {
  rendered: Pick<Rendered, 'nft' | 'rules' | 'routes' | 'sysctls'>;
  model: { links: readonly MarkHolder[] };
}

/** What the kernel has, read before deciding: the decision itself reads nothing. */
export interface Observed {
  /** `nft list table inet mwan` as listed (the snapshot to restore); null: there is none. */
  table: string | null;
  /** The same listing without what a running `mwan trace` or `mwan use` added (theirs, no drift). */
  tableWithoutLive: string | null;
  ip: IpState;
  /** Every path `sysctlPathsFor(desired, history)` names. */
  sysctls: SysctlValues;
}

/** What earlier runs left: the last apply's state file and an interrupted apply's journal. */
export interface History {
  previous: MwanState | null;
  journal: Journal | null;
}

export interface DecideOptions {
  /** `--keep-connections`, and the daemon's drift check: no conntrack deletes. */
  keepConnections?: boolean;
}

export interface Decision {
  ip: IpPlan;
  reloadNft: boolean;
  flushMarks: number[];
  sysctls: SysctlDecision;
}

/** The sysctl paths `decide` looks at, to read before calling it. */
export const sysctlPathsOf = (desired: DesiredState, history: History): string[] =>
  sysctlPathsFor(desired.rendered.sysctls, recordedSysctls(history.previous, history.journal));

/**
 * The one decision of mwan, shared by `mwan apply` and the daemon's repairs: what to change so
 * the kernel is as desired. Pure, so the same inputs give the same actions, and applying them
 * gives a state for which it decides nothing more. Owned rules and routes only (a link table
 * holding someone else's routes is refused, not overwritten).
 */
export function decide(desired: DesiredState, observed: Observed, history: History, options: DecideOptions = {}): Decision {
  const { rendered } = desired;
  assertTablesFree(rendered.routes.map((r) => r.table), observed.ip.routes);
  const target = entriesFromSpecs(rendered.rules, rendered.routes);
  return {
    ip: planIp(target.rules, target.routes, observed.ip),
    reloadNft: needsReload(rendered.nft, history.previous, observed.tableWithoutLive),
    flushMarks: options.keepConnections ? [] : marksToFlush(desired.model.links, history, observed.ip),
    sysctls: decideSysctls(rendered.sysctls, observed.sysctls, recordedSysctls(history.previous, history.journal)),
  };
}

/** Reload unless the table is exactly what this same text produced last time (counters survive). */
function needsReload(nft: string, previous: MwanState | null, table: string | null): boolean {
  if (table === null || !previous?.nft) return true;
  return previous.nft.rendered !== fingerprintRendered(nft) || previous.nft.listed !== fingerprintListed(table);
}

/**
 * Marks whose connections can no longer go the way they went (see changedMarks). Besides the last
 * apply's links, an interrupted apply's count (its table may have marked connections before it
 * stopped), and marks seen on owned rules, for runs whose state file was lost.
 */
function marksToFlush(links: readonly MarkHolder[], history: History, state: IpState): number[] {
  const before = new Map<number, (MarkHolder | null)[]>();
  for (const rule of state.ownedRules) if (rule.fwmark !== undefined) before.set(Number(rule.fwmark), [null]);
  // A link the last apply left out had no rule or route: nothing of it to flush again.
  addHolders(before, history.previous?.links.filter((l) => !l.down));
  addHolders(before, history.journal?.links);
  return changedMarks(links, before);
}
