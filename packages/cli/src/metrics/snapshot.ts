import { counterName } from '@mwan/core';
import type { HealthFile, LinkHealthRecord } from '@mwan/health';
import { carryAll, type CarryState } from './counter-carry.js';
import type { DaemonSample, LinkSample, MetricsSnapshot, RuleSample } from './exposition.js';
import type { KernelSample } from './kernel-sample.js';

export interface MetricsLink {
  name: string;
  interface: string;
  mark: number;
  tier: number;
}

export interface SnapshotInput {
  links: readonly MetricsLink[];
  /** mwan watch's view of the links; only used while the daemon runs (stale health is no health). */
  health: HealthFile | null;
  daemon: DaemonSample | null;
  /** ms since the epoch, for seconds in the current state. */
  now: number;
}

/** Rule counters are named `rule.NAME` (link names cannot hold a dot). */
const RULE_COUNTER = /^rule\.([a-z0-9_-]+)$/;

const INTERFACE_FIELDS = ['rxPackets', 'rxBytes', 'txPackets', 'txBytes'] as const;

/**
 * One kernel reading → the exposition model, every counter carried (so it never goes back: a
 * table swap or a re-created interface only moves the offset). Pure: the carry state goes in and
 * comes out.
 */
/**
 * A file that says how long the state had held at its `updated` (on the daemon's monotonic clock)
 * is off by a wall-clock step for at most the second until its next write; `since` alone would
 * be off by it until the state changes.
 */
function stateSeconds(record: LinkHealthRecord, health: HealthFile | null, now: number): number {
  if (record.stateSeconds !== undefined && health) return record.stateSeconds + Math.max(0, (now - Date.parse(health.updated)) / 1000);
  return Math.max(0, (now - Date.parse(record.since)) / 1000);
}

export function buildSnapshot(kernel: KernelSample, input: SnapshotInput, carry: CarryState): { snapshot: MetricsSnapshot; carry: CarryState } {
  const readings: Record<string, { source: string; value: number }> = {};
  for (const link of input.links) {
    const packets = kernel.counters[counterName(link)];
    if (kernel.tableHandle !== null && packets !== undefined) readings[`connections/${link.name}`] = { source: `table ${kernel.tableHandle}`, value: packets };
    const stats = kernel.interfaces[link.interface];
    if (stats) {
      for (const field of INTERFACE_FIELDS) readings[`${field}/${link.name}`] = { source: `ifindex ${stats.ifindex}`, value: stats[field] };
    }
  }
  // Rules: whatever rule counters the table has now, in its order.
  const ruleNames = kernel.tableHandle === null ? [] : Object.keys(kernel.counters).map((name) => RULE_COUNTER.exec(name)?.[1]).filter((n): n is string => n !== undefined);
  for (const name of ruleNames) readings[`rule/${name}`] = { source: `table ${kernel.tableHandle}`, value: kernel.counters[`rule.${name}`] };
  const carried = carryAll(carry, readings);
  const v = carried.values;
  const links: LinkSample[] = input.links.map((link) => {
    const record = input.health?.links.find((l) => l.name === link.name);
    const stats = kernel.interfaces[link.interface];
    return {
      name: link.name,
      interface: link.interface,
      tier: record?.priority ?? link.tier,
      newConnections: v[`connections/${link.name}`] ?? null,
      interfaceCounters: stats
        ? { rxPackets: v[`rxPackets/${link.name}`], rxBytes: v[`rxBytes/${link.name}`], txPackets: v[`txPackets/${link.name}`], txBytes: v[`txBytes/${link.name}`] }
        : null,
      conntrackEntries: kernel.conntrackByMark ? kernel.conntrackByMark.get(link.mark) ?? 0 : null,
      active: input.health ? input.health.active.includes(link.name) : null,
      health: record
        ? {
            checked: record.checked,
            up: record.state === 'up',
            stateSeconds: stateSeconds(record, input.health, input.now),
            rttMs: record.rttMs,
            lossPercent: record.lossPercent,
            ...(record.lastError !== undefined ? { lastError: record.lastError } : {}),
          }
        : null,
    };
  });
  const rules: RuleSample[] = ruleNames.map((name) => ({ name, newConnections: v[`rule/${name}`] }));
  return { snapshot: { tableLoaded: kernel.tableHandle !== null, links, ...(rules.length ? { rules } : {}), daemon: input.daemon }, carry: carried.state };
}
