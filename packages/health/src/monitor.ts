import { errorMessage, type LinkState } from '@mwan/core';
import type { Clock } from './clock.js';
import { initialHealth, observe, type HealthChange, type LinkHealth } from './link-health.js';
import type { ProbedLink, ProbeOutcome, Prober } from './probe.js';

/** A probe gets this long past its own timeout before the monitor stops waiting for it. */
export const PROBE_GRACE_MS = 1000;

export interface LinkChange extends HealthChange {
  link: string;
  health: LinkHealth;
}

export interface MonitorDeps {
  clock: Clock;
  prober: Prober;
  /** Called synchronously on each state change. */
  onChange?: (change: LinkChange) => void;
  /** Called after every probe round. */
  onProbe?: (link: string, health: LinkHealth) => void;
}

/**
 * Probes every checked link on its own schedule (one round every `interval`, never two at once)
 * and keeps each link's health. Links whose checks are disabled are always up.
 *
 * The cadence stays the same after a failure: probing a suspect link faster (every `timeout`)
 * would confirm a dead link sooner, but falls in step with links flapping at about that period,
 * which then look up; simulated over flap periods of 0.4–0.9 s, a fixed cadence holds them down.
 */
export class HealthMonitor {
  private health = new Map<string, LinkHealth>();
  private links: ProbedLink[] = [];
  private controller?: AbortController;
  private loops: Promise<void>[] = [];

  constructor(private readonly deps: MonitorDeps) {}

  /**
   * Starts probing `links`. Health in `keep` (from before a reload) carries over for links with
   * the same name and interface, so a reload neither forgets a dead link nor re-counts its probes.
   */
  start(links: readonly ProbedLink[], keep: ReadonlyMap<string, LinkHealth> = new Map()): void {
    if (this.controller) throw new Error('the health monitor is already running');
    const now = this.deps.clock.now();
    const sinceMonotonic = this.deps.clock.monotonic();
    this.links = [...links];
    this.health = new Map(links.map((link) => {
      const kept = keep.get(link.name);
      return [link.name, kept && link.health.enabled ? kept : { ...initialHealth(now), sinceMonotonic }];
    }));
    const controller = new AbortController();
    this.controller = controller;
    this.loops = this.links.filter((l) => l.health.enabled).map((link) => this.run(link, controller.signal));
  }

  /** Stops probing and waits for the loops to end; probes in flight are abandoned. */
  async stop(): Promise<void> {
    this.controller?.abort();
    this.controller = undefined;
    await Promise.all(this.loops);
    this.loops = [];
  }

  snapshot(): ReadonlyMap<string, LinkHealth> {
    return new Map(this.health);
  }

  states(): Record<string, LinkState> {
    return Object.fromEntries([...this.health].map(([name, h]) => [name, h.state]));
  }

  private async run(link: ProbedLink, signal: AbortSignal): Promise<void> {
    const { clock } = this.deps;
    const intervalMs = link.health.interval * 1000;
    while (!signal.aborted) {
      // Monotonic: on the wall clock, a step back by an hour would make this sleep an hour.
      const started = clock.monotonic();
      const outcome = await this.probe(link, signal);
      if (signal.aborted) return;
      this.record(link, outcome);
      await clock.sleep(started + intervalMs - clock.monotonic(), signal);
    }
  }

  /** The prober's outcome, or a timeout when it hangs; a prober that throws is a failed probe. */
  private async probe(link: ProbedLink, signal: AbortSignal): Promise<ProbeOutcome> {
    const limit = new AbortController();
    const stop = () => limit.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const timeout = this.deps.clock.sleep(link.health.timeout * 1000 + PROBE_GRACE_MS, limit.signal)
        .then((): ProbeOutcome => ({ ok: false, error: 'timeout' }));
      const probed = this.deps.prober.probe(link).catch((error: unknown): ProbeOutcome => ({ ok: false, error: errorMessage(error) }));
      return await Promise.race([probed, timeout]);
    } finally {
      limit.abort();
      signal.removeEventListener('abort', stop);
    }
  }

  private record(link: ProbedLink, outcome: ProbeOutcome): void {
    const before = this.health.get(link.name) ?? initialHealth(this.deps.clock.now());
    const observed = observe(before, outcome, link.health, this.deps.clock.now());
    const { change } = observed;
    const health = change ? { ...observed.health, sinceMonotonic: this.deps.clock.monotonic() } : observed.health;
    this.health.set(link.name, health);
    this.deps.onProbe?.(link.name, health);
    if (change) this.deps.onChange?.({ ...change, link: link.name, health });
  }
}
