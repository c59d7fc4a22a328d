import { join } from 'node:path';
import { readJson, writeJsonAtomic, type LinkState } from '@mwan/core';

/**
 * `<run-dir>/health.json`, beside the apply engine's state.json (which it leaves alone): what
 * `mwan watch` knows of each link, for `mwan status` and for people.
 */
export interface HealthFile {
  version: 1;
  /** The watch process; a file whose pid is dead is stale. */
  pid: number;
  updated: string;
  /** Set when watch stopped (SIGTERM/SIGINT): the ruleset stays as it was, nobody probes. */
  stopped?: string;
  config: string;
  /** Links new connections may use, as last applied. */
  active: string[];
  /** Every checked link is down: the last active set is kept. */
  allDown: boolean;
  /** Repairs of drift since the daemon started: how many, and the last one. */
  repairs?: { count: number; last?: { at: string; reason: string; what: string } };
  /** `mwan down` ran through the daemon: it applies and repairs nothing until the next apply or SIGHUP. */
  paused?: boolean;
  links: LinkHealthRecord[];
}

export interface LinkHealthRecord {
  name: string;
  interface: string;
  mark: number;
  priority: number;
  /** False: health checks are disabled for this link (no targets or `enabled: false`); always up. */
  checked: boolean;
  state: LinkState;
  since: string;
  /**
   * Seconds in `state` at `updated`, on the monotonic clock: right after a wall-clock step,
   * when `updated` minus `since` is off by the step.
   */
  stateSeconds?: number;
  /** Last answered probe's round-trip time. */
  rttMs: number | null;
  /** Percent of the last (up to 20) probe rounds that got no answer. */
  lossPercent: number | null;
  probes: number;
  lastError?: string;
}

export const healthPath = (runDir: string) => join(runDir, 'health.json');

export async function writeHealthFile(runDir: string, file: HealthFile): Promise<void> {
  await writeJsonAtomic(healthPath(runDir), file);
}

/** The file, or null when there is none (watch never ran here). */
export function readHealthFile(runDir: string): Promise<HealthFile | null> {
  return readJson<HealthFile>(healthPath(runDir), (data) => {
    if (data?.version !== 1 || !Array.isArray(data.links)) throw new Error('not a version 1 health file');
  }, 'a valid health file');
}
