import { resolve } from 'node:path';
import { buildModel, loadConfigFile, MwanError } from '@mwan/core';
import type { HealthFile } from '@mwan/health';
import type { Runner } from '@mwan/iproute2';
import { marksOf, readState } from '@mwan/engine';
import type { CarryState } from './counter-carry.js';
import type { DaemonSample, MetricsSnapshot } from './exposition.js';
import { readKernelSample } from './kernel-sample.js';
import { buildSnapshot, type MetricsLink } from './snapshot.js';

const ALL_BITS = 0xffffffff;

export interface MetricsRequest {
  runDir: string;
  configPath: string;
  /** health.json of a running `mwan watch`, or null. */
  health: HealthFile | null;
  daemon: DaemonSample | null;
  carry: CarryState;
}

/**
 * One reading for metrics and the live view: the links of the last apply (state.json; the
 * config's when never applied), their tiers, and the kernel's counters, carried.
 */
export class MetricsSource {
  constructor(private readonly runner: Runner) {}

  async read(request: MetricsRequest, options: { countersOnly?: boolean } = {}): Promise<{ snapshot: MetricsSnapshot; carry: CarryState; links: MetricsLink[] }> {
    const { links, mask } = await this.links(request);
    const kernel = await readKernelSample(this.runner, mask, options);
    const { snapshot, carry } = buildSnapshot(kernel, { links, health: request.health, daemon: request.daemon, now: Date.now() }, request.carry);
    return { snapshot, carry, links };
  }

  private async links(request: MetricsRequest): Promise<{ links: MetricsLink[]; mask: number }> {
    const state = await readState(request.runDir).catch(() => null);
    // Tiers are not in state.json: health.json has them, otherwise the config (when it can be read).
    let configLinks: { name: string; interface: string; mark: number; priority: number }[] = [];
    let configMask: number | undefined;
    if (!request.health || !state) {
      try {
        const model = buildModel(loadConfigFile(resolve(request.configPath)), { previousMarks: marksOf(state) });
        configLinks = model.links;
        configMask = (model as { markMask?: number }).markMask;
      } catch (error) {
        if (!(error instanceof MwanError)) throw error;
      }
    }
    const tierOf = (name: string) => request.health?.links.find((l) => l.name === name)?.priority ?? configLinks.find((l) => l.name === name)?.priority ?? 0;
    if (state) {
      // State files from before mark masks compared every bit.
      const mask = (state as { markMask?: number }).markMask ?? ALL_BITS;
      return { links: state.links.map((l) => ({ name: l.name, interface: l.interface, mark: l.mark, tier: tierOf(l.name) })), mask };
    }
    return { links: configLinks.map((l) => ({ name: l.name, interface: l.interface, mark: l.mark, tier: l.priority })), mask: configMask ?? ALL_BITS };
  }
}
