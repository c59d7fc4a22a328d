import { describe, expect, it } from '@jest/globals';
import { resolveHealth, type HealthConfig } from '@mwan/core';
import { FakeClock } from './fake-clock.js';
import { HealthMonitor, type LinkChange } from './monitor.js';
import type { ProbedLink, ProbeOutcome, Prober } from './probe.js';

const link = (name: string, config: HealthConfig = {}): ProbedLink => ({
  name, interface: `if-${name}`, mark: 1, health: resolveHealth({ targets: ['10.0.0.1'] }, config),
});

/**
 * A prober whose links answer after `rttMs` of fake time while `reachable(link, now)` says so at
 * send time, and otherwise time out (after the link's timeout), like ping -W.
 */
class FakeProber implements Prober {
  readonly sent: { link: string; at: number }[] = [];
  constructor(private readonly clock: FakeClock, private readonly reachable: (link: string, now: number) => boolean, private readonly rttMs = 1) {}

  async probe(link: ProbedLink): Promise<ProbeOutcome> {
    const at = this.clock.now();
    this.sent.push({ link: link.name, at });
    if (this.reachable(link.name, at)) {
      await this.clock.sleep(this.rttMs);
      return { ok: true, rttMs: this.rttMs };
    }
    await this.clock.sleep(link.health.timeout * 1000);
    return { ok: false, error: 'timeout' };
  }
}

function setup(reachable: (link: string, now: number) => boolean) {
  const clock = new FakeClock(0);
  const prober = new FakeProber(clock, reachable);
  const changes: LinkChange[] = [];
  const monitor = new HealthMonitor({ clock, prober, onChange: (c) => changes.push(c) });
  return { clock, prober, changes, monitor };
}

describe('HealthMonitor', () => {
  it('probes each checked link every interval and never a disabled one', async () => {
    const { clock, prober, monitor } = setup(() => true);
    monitor.start([link('a'), link('b', { interval: 1 }), link('c', { enabled: false })]);
    await clock.advance(2000);
    const at = (name: string) => prober.sent.filter((s) => s.link === name).map((s) => s.at);
    expect(at('a')).toEqual([0, 500, 1000, 1500, 2000]);
    expect(at('b')).toEqual([0, 1000, 2000]);
    expect(at('c')).toEqual([]);
    expect(monitor.states()).toEqual({ a: 'up', b: 'up', c: 'up' });
    await monitor.stop();
    const sent = prober.sent.length;
    await clock.advance(5000);
    expect(prober.sent).toHaveLength(sent);
    expect(clock.pending).toBe(0);
  });

  it('keeps its schedule through wall-clock steps: probing neither pauses nor bursts, hysteresis counts the same rounds', async () => {
    const HOUR = 3_600_000;
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const origin = clock.monotonic();
    // The wall clock is stepped while a probe is in flight (between the round's start and its
    // sleep), the moment where a schedule kept on wall time goes wrong: back an hour, forward three
    // hours, back ten years (a board without a battery before NTP).
    const steps = new Map([[2, -HOUR], [5, 3 * HOUR], [8, -87_600 * HOUR]]);
    const sent: { link: string; at: number }[] = [];
    const prober: Prober = {
      probe: async (l) => {
        sent.push({ link: l.name, at: clock.monotonic() - origin });
        const dead = l.name === 'b' && clock.monotonic() - origin >= 4000;
        await clock.sleep(dead ? l.health.timeout * 1000 : 1);
        const step = l.name === 'a' ? steps.get(sent.filter((s) => s.link === 'a').length - 1) : undefined;
        if (step !== undefined) clock.stepWall(step);
        return dead ? { ok: false, error: 'timeout' } : { ok: true, rttMs: 1 };
      },
    };
    const changes: LinkChange[] = [];
    const monitor = new HealthMonitor({ clock, prober, onChange: (c) => changes.push(c) });
    monitor.start([link('a'), link('b')]);
    await clock.advance(6000);
    await monitor.stop();
    const at = (name: string) => sent.filter((s) => s.link === name).map((s) => s.at);
    const cadence = Array.from({ length: 13 }, (_, i) => i * 500);
    expect(at('a')).toEqual(cadence);
    expect(at('b')).toEqual(cadence);
    // b dies at 4 s: its probes at 4.0, 4.5 and 5.0 s fail, the third known at 5.3 s. The change
    // is stamped with the wall clock as stepped, for the person reading health.json.
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ link: 'b', to: 'down', reason: { kind: 'failures', count: 3 } });
    expect(changes[0].at).toBe(Date.UTC(2026, 5, 1) + 5300 + 2 * HOUR - 87_600 * HOUR);
  });

  it('keeps its cadence through failures, and holds down links flapping at many periods', async () => {
    const { clock, prober, monitor } = setup((name, now) => now < 1000);
    monitor.start([link('a')]);
    await clock.advance(3000);
    await monitor.stop();
    expect(prober.sent.map((s) => s.at)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000]);
    // Down and up every `half` ms, from three phases, for 30 s: held down in the end. A period
    // within 20 ms of the interval is left out: the probes then drift through it over seconds and
    // see long runs up and long runs down, which is what the link looks like from there.
    const cases = [];
    for (let half = 200; half <= 450; half += 10) if (Math.abs(2 * half - 500) > 20) cases.push(half);
    for (const half of cases) for (const offset of [0, Math.round(half / 2), half]) {
      const flapping = setup((name, now) => Math.floor((now + offset) / half) % 2 === 0);
      flapping.monitor.start([link('a')]);
      await flapping.clock.advance(30_000);
      await flapping.monitor.stop();
      expect({ half, offset, changes: flapping.changes.length, last: flapping.changes.at(-1)?.to }).toEqual({ half, offset, changes: expect.any(Number), last: 'down' });
      expect(flapping.changes.length).toBeLessThanOrEqual(5);
    }
  });

  it('detects a dead link within 1.8 s with the defaults, whenever it dies', async () => {
    for (const diesAt of [0, 1, 250, 499, 500, 501, 777, 999]) {
      const { clock, changes, monitor } = setup((name, now) => name !== 'b' || now < 5000 + diesAt);
      monitor.start([link('a'), link('b')]);
      await clock.advance(9000);
      await monitor.stop();
      expect(changes.map((c) => [c.link, c.to])).toEqual([['b', 'down']]);
      expect(changes[0].at - (5000 + diesAt)).toBeLessThanOrEqual(1800);
      expect(changes[0].at - (5000 + diesAt)).toBeGreaterThanOrEqual(1300);
    }
  });

  it('brings a link back within 1.5 s of it answering again', async () => {
    const { clock, changes, monitor } = setup((name, now) => !(now >= 1000 && now < 6200));
    monitor.start([link('a')]);
    await clock.advance(10_000);
    await monitor.stop();
    expect(changes.map((c) => c.to)).toEqual(['down', 'up']);
    expect(changes[1].at - 6200).toBeLessThanOrEqual(1500);
  });

  it('holds a link that flaps every 0.3 s down instead of following it', async () => {
    // Down and up every 300 ms for 30 s: 100 flips.
    const { clock, changes, monitor } = setup((name, now) => Math.floor(now / 300) % 2 === 0 || now >= 30_000);
    monitor.start([link('a')]);
    await clock.advance(30_000);
    const during = changes.length;
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThanOrEqual(3);
    expect(monitor.states().a).toBe('down');
    // Once it is steady again it comes back, needing more successes than a first recovery.
    await clock.advance(10_000);
    await monitor.stop();
    expect(changes.at(-1)).toMatchObject({ to: 'up' });
    expect(changes.at(-1)!.at - 30_000).toBeGreaterThan(1500);
    expect(changes.at(-1)!.at - 30_000).toBeLessThanOrEqual(3500);
  });

  it('holds down a link flapping slightly out of step with the probes (a 0.63 s period)', async () => {
    for (const half of [290, 300, 315, 330]) {
      const { clock, changes, monitor } = setup((name, now) => now < 1000 || Math.floor(now / half) % 2 === 1);
      monitor.start([link('a')]);
      await clock.advance(30_000);
      await monitor.stop();
      expect(changes.length).toBeLessThanOrEqual(3);
      expect(changes.at(-1)?.to).toBe('down');
    }
  });

  it('keeps the health of links that stay across a restart', async () => {
    const { clock, monitor } = setup((name) => name !== 'b');
    monitor.start([link('a'), link('b')]);
    await clock.advance(3000);
    expect(monitor.states()).toEqual({ a: 'up', b: 'down' });
    const kept = monitor.snapshot();
    await monitor.stop();
    monitor.start([link('b'), link('c')], kept);
    expect(monitor.states()).toEqual({ b: 'down', c: 'up' });
    expect(monitor.snapshot().get('b')!.probes).toBe(kept.get('b')!.probes);
    await monitor.stop();
  });

  it('gives up on a probe that hangs, and survives one that throws', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const prober: Prober = {
      probe: () => (++calls % 2 ? new Promise<ProbeOutcome>(() => {}) : Promise.reject(new Error('boom'))),
    };
    const changes: LinkChange[] = [];
    const monitor = new HealthMonitor({ clock, prober, onChange: (c) => changes.push(c) });
    monitor.start([link('a')]);
    await clock.advance(10_000);
    await monitor.stop();
    expect(changes).toHaveLength(1);
    expect(changes[0].reason).toMatchObject({ kind: 'failures', count: 3 });
    expect(['timeout', 'boom']).toContain((changes[0].reason as { lastError: string }).lastError);
    expect(calls).toBeGreaterThan(3);
  });
});
