import { performance } from 'node:perf_hooks';
import type { InjectionToken } from 'tsyringe';

/**
 * Time as the daemon sees it: injected, so tests run minutes of probing in milliseconds.
 *
 * Two clocks, because a router's wall clock steps: NTP corrects it at boot (often by years on a
 * board without a battery), an operator runs `date -s`. Every schedule and every duration is
 * measured on `monotonic`, which a step does not move; `now` is only for timestamps a person reads
 * (health.json's `since` and `updated`, log lines).
 */
export interface Clock {
  /** Wall time, milliseconds since the epoch: for timestamps only, never to measure time. */
  now(): number;
  /** Milliseconds since an arbitrary origin, never stepped (CLOCK_MONOTONIC). */
  monotonic(): number;
  /**
   * Resolves `ms` of monotonic time later, or at once when `signal` aborts (it never rejects).
   * Node's timers run on the monotonic clock, so a wall-clock step neither delays nor hastens one.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const CLOCK: InjectionToken<Clock> = Symbol.for('mwan.Clock');

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) => new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  }),
};
