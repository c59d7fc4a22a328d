import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '@mwan/core';
import type { CarryState } from './counter-carry.js';
import type { DaemonSample } from './exposition.js';

/**
 * `<run-dir>/metrics.json`: the offsets that keep counters from going back across table swaps,
 * and the daemon's own counters. One writer at a time: `mwan watch --metrics` while it runs
 * (its pid is in the file), otherwise `mwan metrics`, which only reads it while that pid lives.
 */
export interface MetricsFile {
  version: 1;
  pid: number;
  updated: string;
  carry: CarryState;
  daemon?: DaemonSample;
}

export const metricsPath = (runDir: string) => join(runDir, 'metrics.json');

export function readMetricsFile(runDir: string): Promise<MetricsFile | null> {
  return readJson<MetricsFile>(metricsPath(runDir), (data) => {
    if (data?.version !== 1 || typeof data.carry !== 'object') throw new Error('not a version 1 metrics file');
  }, 'a valid metrics file');
}

export async function writeMetricsFile(runDir: string, file: MetricsFile): Promise<void> {
  await writeJsonAtomic(metricsPath(runDir), file);
}
