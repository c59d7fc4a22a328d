import type { Spawner } from '@mwan/iproute2';
import type { Clock } from './clock.js';
import { IDLE_INTERVALS, PingSession, type PingSessionKey } from './ping-session.js';
import type { ProbeOutcome } from './probe.js';

/**
 * The running pings, one per interface, mark, target, interval and timeout: a probe asks the one
 * for its key, starting it when there is none. After a process ended on its own, the next probe
 * hears why and the one after starts another, so a missing interface costs one start per two
 * intervals, not a start per probe.
 */
export class PingSessions {
  private readonly sessions = new Map<string, PingSession>();

  constructor(private readonly spawner: Spawner, private readonly clock: Clock) {}

  probe(key: PingSessionKey): Promise<ProbeOutcome> {
    const id = JSON.stringify([key.interface, key.mark, key.target, key.interval, key.timeout]);
    const now = this.clock.monotonic();
    this.sweep(now);
    let session = this.sessions.get(id);
    if (session?.end && now < session.end.restartAt) return session.next();
    if (!session || session.end) {
      session = new PingSession(key, this.spawner, this.clock);
      this.sessions.set(id, session);
    }
    return session.next();
  }

  /** Ends every ping and waits for them to exit. */
  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close()));
  }

  /** How many pings are running. */
  get running(): number {
    return [...this.sessions.values()].filter((s) => !s.end).length;
  }

  /** Forgets ended sessions nobody asked about since: keys of links a reload removed. */
  private sweep(now: number): void {
    for (const [id, session] of this.sessions) {
      if (session.end && now - session.end.restartAt >= IDLE_INTERVALS * session.key.interval * 1000) this.sessions.delete(id);
    }
  }
}
