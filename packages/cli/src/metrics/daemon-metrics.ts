import type { FailoverEvent, HealthFile } from '@mwan/health';
import type { CarryState } from './counter-carry.js';
import { DaemonStats } from './daemon-stats.js';
import { renderExposition } from './exposition.js';
import { readMetricsFile, writeMetricsFile } from './metrics-file.js';
import type { MetricsSource } from './metrics-source.js';

/** How often `mwan watch --metrics` reads the counters without a scrape: what an apply by another command can lose. */
export const CARRY_SAMPLE_MS = 5000;

/**
 * The metrics of a running `mwan watch`: its own counters from its events, and the carried
 * kernel counters, read one reading at a time (each carries the previous one's state) and kept in
 * metrics.json, so they go on where they were after a restart.
 */
export class DaemonMetrics {
  readonly stats = new DaemonStats();
  private carry: CarryState = {};
  private chain: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly source: MetricsSource,
    private readonly request: { runDir: string; configPath: string; health: () => HealthFile },
  ) {}

  async start(): Promise<void> {
    this.carry = (await readMetricsFile(this.request.runDir).catch(() => null))?.carry ?? {};
    this.timer = setInterval(() => void this.exposition().catch(() => undefined), CARRY_SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  observe(event: FailoverEvent): void {
    this.stats.observe(event);
  }

  /** Reads everything now and returns the exposition text. */
  exposition(): Promise<string> {
    return this.read(false);
  }

  /** Reads the nft counters only, so the carry has the table's last values before an apply replaces it. */
  async beforeApply(): Promise<void> {
    await this.read(true);
  }

  private read(countersOnly: boolean): Promise<string> {
    const run = this.chain.then(async () => {
      const { snapshot, carry } = await this.source.read({
        runDir: this.request.runDir, configPath: this.request.configPath, health: this.request.health(), daemon: this.stats.sample, carry: this.carry,
      }, { countersOnly });
      this.carry = carry;
      await writeMetricsFile(this.request.runDir, { version: 1, pid: process.pid, updated: new Date().toISOString(), carry, daemon: this.stats.sample }).catch(() => undefined);
      return renderExposition(snapshot);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
