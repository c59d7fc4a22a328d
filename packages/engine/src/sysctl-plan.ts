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

export interface SysctlDecision extends SysctlPlan {
  /** Wanted sysctls that do not exist (their interface went away since it was looked at): not planned. */
  absent: SysctlSpec[];
}

/** The sysctl values, by path, read before deciding; undefined: the parameter does not exist. */
export type SysctlValues = ReadonlyMap<string, string | undefined>;

/** Every path `decideSysctls` may look at for these wanted and recorded values, each once. */
export function sysctlPathsFor(desired: readonly SysctlSpec[], recorded: ReadonlyMap<string, SysctlChange>): string[] {
  const wanted = new Set(desired.map((s) => s.path));
  const paths = [
    ...desired.flatMap((s) => (s.onlyIfMax ? [s.path, s.onlyIfMax.path] : [s.path])),
    ...[...recorded.keys()].filter((path) => !wanted.has(path)),
  ];
  return [...new Set(paths)];
}

export async function readSysctls(store: SysctlStore, paths: readonly string[]): Promise<Map<string, string | undefined>> {
  const values = await Promise.all(paths.map((path) => store.read(path)));
  return new Map(paths.map((path, i) => [path, values[i]]));
}

/**
 * Decides which sysctls to set, from values read before. A value already right is left alone
 * (keeping the original `previous` recorded when mwan set it); a conditional one (`onlyIf`,
 * `onlyIfMax`) is only changed when its condition holds. Values mwan set earlier that are no
 * longer wanted are put back, unless someone changed them since.
 */
export function decideSysctls(desired: readonly SysctlSpec[], observed: SysctlValues, recorded: ReadonlyMap<string, SysctlChange>): SysctlDecision {
  const value = (path: string) => {
    // A path nobody read would pass for an absent parameter and be silently skipped.
    if (!observed.has(path)) throw new Error(`sysctl ${path} was not read before deciding (see sysctlPathsFor)`);
    return observed.get(path);
  };
  const writes: SysctlWrite[] = [];
  const records: SysctlChange[] = [];
  const absent: SysctlSpec[] = [];
  const wanted = new Set(desired.map((s) => s.path));
  for (const spec of desired) {
    const current = value(spec.path);
    if (current === undefined) {
      absent.push(spec);
      continue;
    }
    const prior = recorded.get(spec.path);
    if (current === spec.value) {
      if (prior && prior.value === spec.value) records.push(prior);
      continue;
    }
    if (spec.onlyIf !== undefined && current !== spec.onlyIf) continue;
    // The kernel's effective value is the larger one; an unreadable `other` counts as 0.
    if (spec.onlyIfMax !== undefined && String(Math.max(Number(current), Number(value(spec.onlyIfMax.path) ?? '0'))) !== spec.onlyIfMax.value) continue;
    writes.push({ path: spec.path, value: spec.value, before: current });
    records.push({ path: spec.path, value: spec.value, previous: current });
  }
  for (const record of recorded.values()) {
    if (wanted.has(record.path)) continue;
    const current = value(record.path);
    if (current === record.value) writes.push({ path: record.path, value: record.previous, before: current });
  }
  return { writes, records, absent };
}

/** Reads what it needs and decides; every wanted sysctl must exist. */
export async function planSysctls(store: SysctlStore, desired: readonly SysctlSpec[], recorded: ReadonlyMap<string, SysctlChange>): Promise<SysctlPlan> {
  const { writes, records, absent } = decideSysctls(desired, await readSysctls(store, sysctlPathsFor(desired, recorded)), recorded);
  if (absent.length) throw runtimeError(missingSysctl(absent[0]));
  return { writes, records };
}

export function missingSysctl(spec: SysctlSpec): string {
  const iface = /^net\/ipv[46]\/conf\/([^/]+)\//.exec(spec.path)?.[1];
  return iface !== undefined
    ? `interface "${iface}" does not exist (no /proc/sys/${spec.path})`
    : `sysctl ${sysctlName(spec.path)} does not exist (no /proc/sys/${spec.path})`;
}
