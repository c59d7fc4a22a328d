import { LOSS_WINDOW, type HealthModel, type LinkState } from '@mwan/core';
import type { ProbeOutcome } from './probe.js';

/** Flap damping: each quick relapse doubles the successes needed to come back, up to this many times. */
export const MAX_FLAP_DOUBLINGS = 3;

/** Everything known about one link's health. Plain data: the monitor keeps one per link. */
export interface LinkHealth {
  state: LinkState;
  /** When the state last changed (ms since the epoch; the monitor's start for the first state). */
  since: number;
  /**
   * The same moment on the monotonic clock, set by the monitor: how long the state has held,
   * whatever the wall clock did since (`since` is for people to read).
   */
  sinceMonotonic?: number;
  /** Consecutive failed probe rounds; reset by a success. */
  failures: number;
  /** Consecutive successful probe rounds; reset by a failure. */
  successes: number;
  /** Outcomes of the last LOSS_WINDOW rounds, oldest first: false = no answer. */
  window: boolean[];
  /** The same rounds judged: false = failed (no answer, or slower than maxRtt). */
  judged: boolean[];
  probes: number;
  lastRttMs?: number;
  lastError?: string;
  /** Quick relapses (down again within LOSS_WINDOW rounds of coming up) not yet forgiven. */
  flaps: number;
  /** Rounds since the link last came up; Infinity when it never went down. */
  roundsUp: number;
  /** Failed rounds (in a row or not) since the link last came up. */
  failedSinceUp: number;
}

/** A state change decided by `observe`; the monitor adds the link's name. */
export interface HealthChange {
  from: LinkState;
  to: LinkState;
  at: number;
  /** What decided it. */
  reason:
    | { kind: 'failures'; count: number; lastError: string; of?: number }
    | { kind: 'probation'; count: number; rounds: number; lastError: string }
    | { kind: 'loss'; lossPercent: number; maxLoss: number }
    | { kind: 'successes'; count: number; rttMs: number };
}

export function initialHealth(now: number): LinkHealth {
  return { state: 'up', since: now, failures: 0, successes: 0, window: [], judged: [], probes: 0, flaps: 0, roundsUp: Infinity, failedSinceUp: 0 };
}

/** Percent of the last LOSS_WINDOW rounds that got no answer; undefined before the first. */
export function lossPercent(health: Pick<LinkHealth, 'window'>): number | undefined {
  if (!health.window.length) return undefined;
  return (100 * health.window.filter((ok) => !ok).length) / health.window.length;
}

/** Successes needed to come back up: `up`, doubled for each unforgiven relapse. */
export function successesNeeded(health: Pick<LinkHealth, 'flaps'>, settings: Pick<HealthModel, 'up'>): number {
  return settings.up * 2 ** Math.min(health.flaps, MAX_FLAP_DOUBLINGS);
}

/**
 * One probe round's outcome applied to a link's health: pure, so every rule is tested without a
 * network or a clock.
 * - A round fails when nothing answered, or the answer came slower than `maxRtt`.
 * - Up → down after `down` failed rounds in a row, or `down` failed rounds among the last
 *   `2 × down − 1` (a link failing every other round has not got `down` in a row, ever), or when
 *   more than `maxLoss` percent of a full window of LOSS_WINDOW rounds got no answer.
 * - Down → up after `successesNeeded` good rounds in a row, with the loss no longer over `maxLoss`.
 * - Hysteresis alone lets a flapping link come back whenever `up` probes happen to land in a row,
 *   and then stay up at 50% loss because failures never come `down` in a row. So a link that
 *   just came back is on probation for LOSS_WINDOW rounds: `down` failed rounds in total (not
 *   only in a row) take it down again. Going down within those rounds is a relapse: the link
 *   needs twice the successes next time (at most 2^MAX_FLAP_DOUBLINGS times). LOSS_WINDOW rounds
 *   up forgive it.
 */
export function observe(health: LinkHealth, outcome: ProbeOutcome, settings: HealthModel, now: number): { health: LinkHealth; change?: HealthChange } {
  const slow = outcome.ok && settings.maxRtt !== undefined && outcome.rttMs > settings.maxRtt;
  const good = outcome.ok && !slow;
  const window = [...health.window, outcome.ok].slice(-LOSS_WINDOW);
  const judged = [...health.judged, good].slice(-LOSS_WINDOW);
  const next: LinkHealth = {
    ...health,
    window,
    judged,
    probes: health.probes + 1,
    failures: good ? 0 : health.failures + 1,
    successes: good ? health.successes + 1 : 0,
    roundsUp: health.state === 'up' ? health.roundsUp + 1 : health.roundsUp,
    failedSinceUp: health.state === 'up' && !good ? health.failedSinceUp + 1 : health.failedSinceUp,
  };
  if (outcome.ok) next.lastRttMs = outcome.rttMs;
  if (!good) next.lastError = outcome.ok ? `rtt ${round(outcome.rttMs)} ms over maxRtt ${settings.maxRtt} ms` : outcome.error;
  else delete next.lastError;
  if (next.state === 'up' && next.roundsUp >= LOSS_WINDOW) next.flaps = 0;

  const loss = lossPercent(next) as number;
  const lossy = settings.maxLoss !== undefined && loss > settings.maxLoss;
  if (health.state === 'up') {
    let reason: HealthChange['reason'] | undefined;
    const span = 2 * settings.down - 1;
    const scattered = judged.slice(-span).filter((g) => !g).length;
    if (next.failures >= settings.down) reason = { kind: 'failures', count: next.failures, lastError: next.lastError ?? 'failed' };
    else if (scattered >= settings.down) reason = { kind: 'failures', count: scattered, of: Math.min(span, judged.length), lastError: next.lastError ?? 'failed' };
    else if (health.roundsUp < LOSS_WINDOW && next.failedSinceUp >= settings.down) {
      reason = { kind: 'probation', count: next.failedSinceUp, rounds: next.roundsUp, lastError: next.lastError ?? 'failed' };
    } else if (lossy && window.length >= LOSS_WINDOW) reason = { kind: 'loss', lossPercent: round(loss), maxLoss: settings.maxLoss as number };
    if (!reason) return { health: next };
    const relapse = health.roundsUp < LOSS_WINDOW;
    return {
      health: { ...next, state: 'down', since: now, successes: 0, flaps: relapse ? next.flaps + 1 : next.flaps, roundsUp: 0 },
      change: { from: 'up', to: 'down', at: now, reason },
    };
  }
  if (next.successes >= successesNeeded(next, settings) && !lossy) {
    return {
      health: { ...next, state: 'up', since: now, failures: 0, roundsUp: 0, failedSinceUp: 0 },
      change: { from: 'down', to: 'up', at: now, reason: { kind: 'successes', count: next.successes, rttMs: next.lastRttMs ?? 0 } },
    };
  }
  return { health: next };
}

const round = (value: number) => Math.round(value * 10) / 10;
