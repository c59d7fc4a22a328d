import { runtimeError, sysctlName, type SysctlSpec } from '@mwan/core';
import type { SysctlStore } from '@mwan/iproute2';
import type { SysctlChange } from './state-file.js';

export interface SysctlWrite {
  path: string;
  value: string;
  /** The value right now, to put back if this apply fails. */
  before: string;
}

export interface SysctlPlan {
  writes: SysctlWrite[];
  /** What the state file records afterwards: every value mwan set, with the one it replaced. */
  records: SysctlChange[];
}

/**
 * Decides which sysctls to set. A value already right is left alone (keeping the original
 * `previous` recorded when mwan set it); a conditional one (`onlyIf`, `onlyIfMax`) is only
 * changed when its condition holds. Values mwan set earlier that are no longer wanted are put back, unless someone changed
 * them since.
 */
export async function planSysctls(
  store: SysctlStore,
  desired: readonly SysctlSpec[],
  recorded: ReadonlyMap<string, SysctlChange>,
): Promise<SysctlPlan> {
  const writes: SysctlWrite[] = [];
  const records: SysctlChange[] = [];
  const wanted = new Set(desired.map((s) => s.path));
  for (const spec of desired) {
    const current = await store.read(spec.path);
    if (current === undefined) throw runtimeError(missing(spec));
    const prior = recorded.get(spec.path);
    if (current === spec.value) {
      if (prior && prior.value === spec.value) records.push(prior);
      continue;
    }
    if (spec.onlyIf !== undefined && current !== spec.onlyIf) continue;
    if (spec.onlyIfMax !== undefined) {
      const other = await store.read(spec.onlyIfMax.path);
      // The kernel's effective value is the larger one; an unreadable `other` counts as 0.
      if (String(Math.max(Number(current), Number(other ?? '0'))) !== spec.onlyIfMax.value) continue;
    }
    writes.push({ path: spec.path, value: spec.value, before: current });
    records.push({ path: spec.path, value: spec.value, previous: current });
  }
  for (const record of recorded.values()) {
    if (wanted.has(record.path)) continue;
    const current = await store.read(record.path);
    if (current === record.value) writes.push({ path: record.path, value: record.previous, before: current });
  }
  return { writes, records };
}

function missing(spec: SysctlSpec): string {
  const iface = /^net\/ipv[46]\/conf\/([^/]+)\//.exec(spec.path)?.[1];
  return iface !== undefined
    ? `interface "${iface}" does not exist (no /proc/sys/${spec.path})`
    : `sysctl ${sysctlName(spec.path)} does not exist (no /proc/sys/${spec.path})`;
}
