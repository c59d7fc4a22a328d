import type { Clock } from './clock.js';

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
}

/**
 * A clock that moves only when told. `advance` wakes sleepers in time order and lets the
 * promise chains they start run to their next sleep before moving on, so code under test sees
 * exactly the times it would see for real.
 */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
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

/** Lets every promise chain that can run without time passing run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
