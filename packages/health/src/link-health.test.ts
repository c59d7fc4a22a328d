import { describe, expect, it } from '@jest/globals';
import { LOSS_WINDOW, resolveHealth, type HealthConfig } from '@mwan/core';
import { initialHealth, lossPercent, observe, successesNeeded, type HealthChange, type LinkHealth } from './link-health.js';
import type { ProbeOutcome } from './probe.js';

const OK: ProbeOutcome = { ok: true, rttMs: 1 };
const LOST: ProbeOutcome = { ok: false, error: 'timeout' };

/** Feeds outcomes one per 500 ms and returns the final health and every change. */
function feed(outcomes: readonly ProbeOutcome[], config: HealthConfig = {}, start: LinkHealth = initialHealth(0)) {
  const settings = resolveHealth({ targets: ['10.0.0.1'], ...config }, undefined);
  let health = start;
  const changes: (HealthChange & { round: number })[] = [];
  outcomes.forEach((outcome, i) => {
    const result = observe(health, outcome, settings, (i + 1) * 500);
    health = result.health;
    if (result.change) changes.push({ ...result.change, round: i + 1 });
  });
  return { health, changes };
}

const times = (n: number, outcome: ProbeOutcome) => Array.from({ length: n }, () => outcome);

describe('observe', () => {
  it('takes a link down after `down` failed rounds in a row, not before', () => {
    expect(feed(times(2, LOST)).changes).toEqual([]);
    const { health, changes } = feed(times(3, LOST));
    expect(changes).toEqual([{ from: 'up', to: 'down', at: 1500, round: 3, reason: { kind: 'failures', count: 3, lastError: 'timeout' } }]);
    expect(health).toMatchObject({ state: 'down', since: 1500, failures: 3, lastError: 'timeout' });
  });

  it('starts counting again after a success', () => {
    expect(feed([LOST, LOST, OK, OK, OK, LOST, LOST, OK]).changes).toEqual([]);
    expect(feed([LOST, LOST, OK, OK, OK, LOST, LOST, LOST]).changes.map((c) => c.round)).toEqual([8]);
  });

  it('takes down a link failing every other round: `down` failures among the last 2 × down − 1', () => {
    const { changes } = feed([LOST, OK, LOST, OK, LOST]);
    expect(changes).toEqual([{ from: 'up', to: 'down', at: 2500, round: 5, reason: { kind: 'failures', count: 3, of: 5, lastError: 'timeout' } }]);
    expect(feed([LOST, OK, OK, LOST, OK, OK, LOST, OK, OK]).changes).toEqual([]);
    expect(feed([LOST, OK, OK, OK, LOST, OK, OK, OK, LOST, OK, LOST], { down: 4 }).changes).toEqual([]);
  });

  it('brings a link back after `up` good rounds in a row', () => {
    const { health, changes } = feed([...times(3, LOST), OK, OK, LOST, OK, OK, { ok: true, rttMs: 2.5 }]);
    expect(changes.map((c) => [c.to, c.round])).toEqual([['down', 3], ['up', 9]]);
    expect(changes[1].reason).toEqual({ kind: 'successes', count: 3, rttMs: 2.5 });
    expect(health).toMatchObject({ state: 'up', since: 4500, lastRttMs: 2.5 });
    expect(health.lastError).toBeUndefined();
  });

  it('honours other down and up counts', () => {
    const { changes } = feed([...times(5, LOST), ...times(4, OK)], { down: 5, up: 4 });
    expect(changes.map((c) => [c.to, c.round])).toEqual([['down', 5], ['up', 9]]);
  });

  it('counts an answer slower than maxRtt as a failure, but not as lost', () => {
    const slow: ProbeOutcome = { ok: true, rttMs: 250 };
    const { health, changes } = feed(times(3, slow), { maxRtt: 200 });
    expect(changes[0].reason).toEqual({ kind: 'failures', count: 3, lastError: 'rtt 250 ms over maxRtt 200 ms' });
    expect(lossPercent(health)).toBe(0);
    expect(feed(times(3, slow), { maxRtt: 300 }).changes).toEqual([]);
  });

  it('keeps the loss over the last LOSS_WINDOW rounds', () => {
    const { health } = feed([...times(5, LOST), ...times(LOSS_WINDOW - 2, OK)]);
    expect(health.window).toHaveLength(LOSS_WINDOW);
    expect(lossPercent(health)).toBe((2 / LOSS_WINDOW) * 100);
    expect(lossPercent(initialHealth(0))).toBeUndefined();
  });

  it('takes a link down on loss over maxLoss once the window is full, without failures in a row', () => {
    const lossy = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? LOST : OK)); // a third lost, never two in a row
    const { changes } = feed(lossy, { maxLoss: 30 });
    expect(changes[0]).toMatchObject({ to: 'down', round: LOSS_WINDOW, reason: { kind: 'loss', maxLoss: 30 } });
    expect(feed(lossy, { maxLoss: 40 }).changes).toEqual([]);
  });

  it('keeps a link with loss over maxLoss down even after `up` successes', () => {
    const { changes } = feed([...times(LOSS_WINDOW, LOST), ...times(10, OK)], { maxLoss: 50 });
    // Down at round 3; loss reaches 50% only when 10 of the last 20 rounds answered.
    expect(changes.map((c) => [c.to, c.round])).toEqual([['down', 3], ['up', 30]]);
  });

  describe('flap damping', () => {
    it('doubles the successes needed after a quick relapse', () => {
      const flap = [...times(3, LOST), ...times(3, OK), ...times(3, LOST)];
      const { health, changes } = feed(flap);
      expect(changes.map((c) => c.to)).toEqual(['down', 'up', 'down']);
      expect(health.flaps).toBe(1);
      expect(successesNeeded(health, { up: 3 })).toBe(6);
      expect(feed([...flap, ...times(5, OK)]).changes).toHaveLength(3);
      expect(feed([...flap, ...times(6, OK)]).changes.map((c) => [c.to, c.round])).toEqual([['down', 3], ['up', 6], ['down', 9], ['up', 15]]);
    });

    it('puts a link that came back on probation: `down` failures in total take it down again', () => {
      const back = [...times(3, LOST), ...times(3, OK)];
      const sparse = [OK, LOST, OK, OK, LOST, OK, OK, LOST]; // never 3 of the last 5
      const { changes, health } = feed([...back, ...sparse]);
      expect(changes.map((c) => [c.to, c.round])).toEqual([['down', 3], ['up', 6], ['down', 14]]);
      expect(changes[2].reason).toEqual({ kind: 'probation', count: 3, rounds: 8, lastError: 'timeout' });
      expect(health.flaps).toBe(1);
      // After LOSS_WINDOW rounds up, sparse failures are no longer counted against it.
      expect(feed([...back, ...times(LOSS_WINDOW, OK), ...sparse]).changes).toHaveLength(2);
    });

    it('caps the doubling', () => {
      const health: LinkHealth = { ...initialHealth(0), state: 'down', flaps: 10 };
      expect(successesNeeded(health, { up: 3 })).toBe(24);
    });

    it('forgives a link that stayed up for a full window', () => {
      const flap = [...times(3, LOST), ...times(3, OK), ...times(3, LOST), ...times(6, OK)];
      const { health } = feed([...flap, ...times(LOSS_WINDOW, OK)]);
      expect(health.flaps).toBe(0);
      // and its next failure is not a relapse
      expect(feed([...flap, ...times(LOSS_WINDOW, OK), ...times(3, LOST)]).health.flaps).toBe(0);
    });

    it('does not count the first failure after start as a relapse', () => {
      expect(feed(times(3, LOST)).health.flaps).toBe(0);
    });
  });
});
