import type { InjectionToken } from 'tsyringe';
import type { HealthModel } from '@mwan/core';

/** What a probe needs to know of a link: where to send it from and which mark routes it. */
export interface ProbedLink {
  name: string;
  interface: string;
  mark: number;
  health: HealthModel;
}

/** One probe of one target, or one round over all of a link's targets. */
export type ProbeOutcome =
  | { ok: true; rttMs: number }
  | { ok: false; error: string };

/** Sends one round of probes through a link. Never throws: a failure is an outcome. */
export interface Prober {
  probe(link: ProbedLink): Promise<ProbeOutcome>;
  /** Ends what probing keeps running (the pings), when the daemon stops. */
  close?(): Promise<void>;
}

export const PROBER: InjectionToken<Prober> = Symbol.for('mwan.Prober');

/**
 * A round succeeds when any target answers: a link is up if it reaches something, and one dead
 * target must not take a working link down. The RTT is the best answer's.
 */
export function combineOutcomes(outcomes: readonly ProbeOutcome[]): ProbeOutcome {
  const answered = outcomes.filter((o): o is Extract<ProbeOutcome, { ok: true }> => o.ok);
  if (answered.length) return { ok: true, rttMs: Math.min(...answered.map((o) => o.rttMs)) };
  const errors = [...new Set(outcomes.map((o) => (o.ok ? '' : o.error)))];
  return { ok: false, error: errors.join('; ') || 'no targets' };
}
