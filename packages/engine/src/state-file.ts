import { rm } from 'node:fs/promises';
import type { LinkDownReason } from '@mwan/core';
import type { KernelRoute, KernelRule } from '@mwan/iproute2';
import { journalPath, readJson, statePath, writeJsonAtomic } from './run-dir.js';

export interface LinkState {
  name: string;
  interface: string;
  mark: number;
  table: number;
  weight: number;
  /** The next hop its route went by (a learned one for `"gateway": "auto"`; `auto` when it was left out). */
  gateway?: string;
  /** Its static SNAT address, which must stay on the interface. */
  snat?: string;
  /** Left out of the apply: its interface could not carry traffic (no route, rule or sysctl). */
  down?: { reason: LinkDownReason; detail: string };
  /** The link carries IPv6: its IPv6 next hop (a learned one for `auto`), or why its IPv6 side was left out. */
  ipv6?: { gateway?: string; down?: { reason: LinkDownReason; detail: string } };
}

/** A sysctl mwan changed, with the value it had before, so `down` can put it back. */
export interface SysctlChange {
  path: string;
  value: string;
  previous: string;
}

/** What the last successful apply did: `status` and `down` read it, the next apply keeps marks from it. */
export interface MwanState {
  version: 1;
  applied: string;
  pid: number;
  config: string;
  strategy: string;
  links: LinkState[];
  sysctls: SysctlChange[];
  /** sha256 of the nft text loaded, and of the table as listed after loading (counters left out). */
  nft: { rendered: string; listed: string };
  /** The mark mask the links' marks live in (absent in files of versions before masks: all bits). */
  markMask?: number;
}

export interface Snapshot {
  /** `nft list table inet mwan`, or null when there was none. */
  nft: string | null;
  rules: KernelRule[];
  routes: KernelRoute[];
}

/**
 * Written before the first change and removed after the last: if it is still there, an apply
 * was interrupted. The kernel's state (proto 109) is what the next run repairs from; the journal
 * adds what the kernel cannot tell, the previous values of sysctls being changed.
 */
export interface Journal {
  version: 1;
  pid: number;
  started: string;
  step: string;
  snapshot: Snapshot;
  pendingSysctls: SysctlChange[];
  /**
   * The links the interrupted apply was giving marks to: its table may have marked connections
   * before it stopped, so the repair treats these marks as in use by these links.
   */
  links?: LinkState[];
}

export const readState = (runDir: string) => readJson<MwanState>(statePath(runDir));
export const writeState = (runDir: string, state: MwanState) => writeJsonAtomic(statePath(runDir), state);
export const removeState = (runDir: string) => rm(statePath(runDir), { force: true });

export const readJournal = (runDir: string) => readJson<Journal>(journalPath(runDir));
export const writeJournal = (runDir: string, journal: Journal) => writeJsonAtomic(journalPath(runDir), journal);
export const removeJournal = (runDir: string) => rm(journalPath(runDir), { force: true });

/** Recorded changes from the last state and an interrupted run, the oldest `previous` winning. */
export function recordedSysctls(state: MwanState | null, journal: Journal | null): Map<string, SysctlChange> {
  const records = new Map<string, SysctlChange>();
  for (const change of [...(state?.sysctls ?? []), ...(journal?.pendingSysctls ?? [])]) {
    if (!records.has(change.path)) records.set(change.path, change);
  }
  return records;
}
