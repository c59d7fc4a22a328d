import type { Clock } from './clock.js';

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
}

/**
 * A clock that moves only when told. `advance` wakes sleepers in time order and lets the
 * promise chains they start run to their next sleep before moving on, so code under test sees
 * exactly the times it would see for real. `stepWall` moves the wall clock alone, as `date -s`
 * or NTP's first correction does.
 */
export class FakeClock implements Clock {
  /** Monotonic time: what sleepers wait on. */
  private time = MONOTONIC_ORIGIN;
  /** Wall time minus monotonic time. */
  private wallOffset: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  /** `start`: the wall time at the start. */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.wallOffset = start - MONOTONIC_ORIGIN;
  }

  now(): number {
    return this.time + this.wallOffset;
  }

  monotonic(): number {
    return this.time;
  }

  /** Sets the wall clock `ms` forward (back when negative); no sleeper notices. */
  stepWall(ms: number): void {
    this.wallOffset += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const abort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      };
      const sleeper: Sleeper = {
        at: this.time + Math.max(0, ms),
        seq: this.seq++,
        wake: () => {
          signal?.removeEventListener('abort', abort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Moves time forward by `ms`, waking every sleeper due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const due = this.sleepers.filter((s) => s.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.sleepers = this.sleepers.filter((s) => s !== due);
      this.time = due.at;
      due.wake();
      await settle();
    }
    this.time = end;
    await settle();
  }

  /** Sleepers still waiting: a stopped monitor leaves none. */
  get pending(): number {
    return this.sleepers.length;
  }
}

/**
 * The monotonic clock's value at the start: neither 0 nor the wall time, so code that mixes the
 * two clocks up, or takes a monotonic reading for a date, shows in tests.
 */
const MONOTONIC_ORIGIN = 7_000_000;

/** Lets every promise chain that can run without time passing run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
