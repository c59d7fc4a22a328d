import type { FailoverEvent } from '@mwan/health';
import type { DaemonSample } from './exposition.js';

/** The daemon's own counters, kept from its events (plain arithmetic; the daemon feeds it). */
export class DaemonStats {
  private sampleValue: DaemonSample;

  constructor(initial?: DaemonSample) {
    this.sampleValue = initial ? { checks: 0, ...structuredClone(initial) } : { reconciles: 0, checks: 0, repairs: 0, applies: { ok: 0, failed: 0 }, lastApplySeconds: null };
  }

  observe(event: FailoverEvent): void {
    const s = this.sampleValue;
    if (event.event === 'reconcile') s.reconciles++;
    else if (event.event === 'check') s.checks = (s.checks ?? 0) + 1;
    else if (event.event === 'repair') s.repairs++;
    else if (event.event === 'apply') {
      s.applies[event.result]++;
      s.lastApplySeconds = event.durationMs / 1000;
    }
  }

  get sample(): DaemonSample {
    return structuredClone(this.sampleValue);
  }
}
