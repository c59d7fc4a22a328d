import type { Spawned, Spawner } from '@mwan/iproute2';
import type { Clock } from './clock.js';
import { parsePingLine } from './ping-line.js';
import { pingArgs } from './ping-probe.js';
import type { ProbeOutcome } from './probe.js';

export interface PingSessionKey {
  interface: string;
  mark: number;
  target: string;
  /** Seconds between echoes. */
  interval: number;
  /** Seconds an echo may take. */
  timeout: number;
}

/** Nobody asked for this many intervals: the link is gone from the config (a reload), so is its ping. */
export const IDLE_INTERVALS = 4;
/**
 * This many failed echoes in a row end the process, and the next probe starts another. ping
 * resolves its interface and source address once: after a PPP link comes back as a new device,
 * or DHCP gives the link another address, the old process sends into nothing for ever. A ping
 * gone silent (stuck) ends the same way: its echoes fail at their deadlines.
 */
export const RESTART_AFTER_FAILURES = 3;
/** ping's echoes leave a little behind its schedule (12 ms per 0.5 s measured); a deadline waits this much more. */
export const SEND_SLACK_MS = 20;

const WRAP = 65_536;

/**
 * One long-running `ping` of one target through one link. `next()` resolves with the outcome of
 * the next echo that completes: its answer within `timeout`, a timeout, or an error. An echo
 * without an answer `timeout` after it was due to leave has failed; the session judges that
 * itself rather than wait for ping's `no answer yet`, which comes only with the next echo, an
 * interval after it left.
 *
 * Once ended (the process exited, failed too often, went unasked or was closed) it stays ended:
 * its owner starts another.
 */
export class PingSession {
  readonly startedAt: number;
  /** Set once ended: why, and from when on another process may start. */
  end?: { error: string; restartAt: number };
  private readonly process: Spawned;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private waiters: ((outcome: ProbeOutcome) => void)[] = [];
  /** Every echo before this one has its outcome (sequence numbers unwrapped). */
  private judgedBelow = 1;
  /** The last echo known to have left, and when; `observed` false: only assumed (the start). */
  private lastSend: { seq: number; at: number; observed: boolean };
  /** Time between two echoes as ping keeps it: at least `interval`. */
  private periodMs: number;
  private lastAsked: number;
  private failures = 0;
  /** ping's last complaint on stderr: what its exit is blamed on. */
  private lastError?: string;
  private readonly stopped = new AbortController();
  private readonly exited: Promise<void>;
  private onExit: () => void = () => {};

  constructor(readonly key: PingSessionKey, spawner: Spawner, private readonly clock: Clock) {
    this.intervalMs = key.interval * 1000;
    this.timeoutMs = key.timeout * 1000;
    this.periodMs = this.intervalMs;
    this.startedAt = clock.monotonic();
    this.lastAsked = this.startedAt;
    // The first echo leaves as the process starts.
    this.lastSend = { seq: 0, at: this.startedAt - this.intervalMs, observed: false };
    this.exited = new Promise<void>((resolve) => {
      this.onExit = resolve;
    });
    this.process = spawner.spawn('ping', pingArgs(key.interface, key.mark, key.target, key.interval), {
      line: (stream, text) => this.line(stream, text),
      exit: (end) => {
        this.onExit();
        const how = end.error ?? (end.signal ? `ping killed by ${end.signal}` : `ping exited with ${end.exitCode}`);
        this.finish(this.lastError ?? how, this.clock.monotonic() + this.intervalMs);
      },
    });
    void this.watch();
  }

  /** The outcome of the next echo that completes; at once when the session has ended. */
  next(): Promise<ProbeOutcome> {
    this.lastAsked = this.clock.monotonic();
    if (this.end) return Promise.resolve({ ok: false, error: this.end.error });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Ends the process (a probe waiting fails with `error`); resolves when it has exited, or after `waitMs`. */
  async close(error = 'probing stopped', waitMs = 2000): Promise<void> {
    this.finish(error, this.clock.monotonic());
    const limit = new AbortController();
    await Promise.race([this.exited, this.clock.sleep(waitMs, limit.signal)]);
    limit.abort();
  }

  private line(stream: 'stdout' | 'stderr', text: string): void {
    if (this.end) return;
    const now = this.clock.monotonic();
    const parsed = parsePingLine(stream, text);
    switch (parsed.kind) {
      case 'reply': {
        const seq = this.unwrap(parsed.seq);
        // A time beyond the timeout may be a wall-clock step under the echo (hours): no send time to go by.
        if (parsed.rttMs <= this.timeoutMs) this.sent(seq, now - parsed.rttMs);
        this.judge(seq, parsed.rttMs <= this.timeoutMs ? { ok: true, rttMs: parsed.rttMs } : { ok: false, error: 'timeout' });
        break;
      }
      case 'lost': {
        // Printed as the next echo leaves.
        const seq = this.unwrap(parsed.seq);
        this.sent(seq + 1, now);
        if (this.timeoutMs <= this.intervalMs) this.judge(seq, { ok: false, error: 'timeout' });
        break;
      }
      case 'failed':
        this.judge(this.unwrap(parsed.seq), { ok: false, error: parsed.error });
        break;
      case 'error':
        this.lastError = parsed.error;
        this.judge(this.judgedBelow, { ok: false, error: parsed.error });
        break;
      case 'other':
        break;
    }
  }

  /** The sequence number nearest the last echo sent with these low 16 bits. */
  private unwrap(printed: number): number {
    const ref = this.lastSend.seq;
    const diff = (((printed - ref) % WRAP) + WRAP + WRAP / 2) % WRAP - WRAP / 2;
    return ref + diff;
  }

  private sent(seq: number, at: number): void {
    if (seq <= this.lastSend.seq) return;
    if (this.lastSend.observed) {
      const period = (at - this.lastSend.at) / (seq - this.lastSend.seq);
      this.periodMs = Math.min(2 * this.intervalMs, Math.max(this.intervalMs, period));
    }
    this.lastSend = { seq, at, observed: true };
  }

  /** When echo `seq` has failed unless answered: `timeout` after it is due to leave. */
  private deadline(seq: number): number {
    return this.lastSend.at + (seq - this.lastSend.seq) * this.periodMs + this.timeoutMs + SEND_SLACK_MS;
  }

  private judge(seq: number, outcome: ProbeOutcome): void {
    if (this.end || seq < this.judgedBelow) return;
    this.judgedBelow = seq + 1;
    this.failures = outcome.ok ? 0 : this.failures + 1;
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve(outcome);
    if (this.failures >= RESTART_AFTER_FAILURES) this.finish(outcome.ok ? '' : outcome.error, this.clock.monotonic());
  }

  /** Ends the session once: waiting probes fail with `error`, the process is killed if still running. */
  private finish(error: string, restartAt: number): void {
    if (this.end) return;
    this.end = { error, restartAt };
    this.stopped.abort();
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve({ ok: false, error });
    this.process.kill();
  }

  /** The session's one timer: judges each echo at its deadline, ends a process nobody asks about any more. */
  private async watch(): Promise<void> {
    while (!this.end) {
      const now = this.clock.monotonic();
      const idleAt = this.lastAsked + IDLE_INTERVALS * this.intervalMs;
      if (!this.waiters.length && now >= idleAt) {
        this.finish('not probed any more', now);
        return;
      }
      const due = this.deadline(this.judgedBelow);
      if (now >= due) {
        this.judge(this.judgedBelow, { ok: false, error: 'timeout' });
        continue;
      }
      await this.clock.sleep((this.waiters.length ? due : Math.min(due, idleAt)) - now, this.stopped.signal);
    }
  }
}
