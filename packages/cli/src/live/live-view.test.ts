import { describe, expect, it } from '@jest/globals';
import type { LinkSample, MetricsSnapshot } from '../metrics/exposition.js';
import { formatBitRate, formatLiveView, liveFrame, type LiveSample } from './live-view.js';

const link = (name: string, newConnections: number, rxBytes: number, txBytes: number, extra: Partial<LinkSample> = {}): LinkSample => ({
  name, interface: `wan${name.slice(-1)}`, tier: 0, newConnections,
  interfaceCounters: { rxPackets: 0, rxBytes, txPackets: 0, txBytes }, conntrackEntries: 3, active: true,
  health: { checked: true, up: true, stateSeconds: 5, rttMs: 0.4, lossPercent: 0 }, ...extra,
});
/** `at` on both clocks; `wallStep`: how far the wall clock was set since the view started. */
const sample = (at: number, links: readonly LinkSample[], wallStep = 0): LiveSample => ({ at: at + wallStep, monotonicMs: 5_000_000 + at, snapshot: { tableLoaded: true, links, daemon: null } satisfies MetricsSnapshot });

describe('the live view', () => {
  const first = sample(0, [link('isp1', 100, 0, 0), link('isp2', 100, 0, 0)]);
  const previous = sample(9000, [link('isp1', 130, 1_000_000, 10_000), link('isp2', 150, 0, 0)]);
  const current = sample(10_000, [
    link('isp1', 131, 1_125_000, 22_500),
    link('isp2', 153, 0, 0, { active: false, health: { checked: true, up: false, stateSeconds: 1, rttMs: null, lossPercent: 35, lastError: 'timeout' } }),
  ]);

  it('gives each link its share of new connections over the last interval and since the start, and its bit rates', () => {
    const frame = liveFrame(first, previous, current);
    expect(frame.intervalSeconds).toBe(1);
    expect(frame.links[0]).toMatchObject({ newConnections: 1, share: 0.25, newConnectionsSinceStart: 31, shareSinceStart: 31 / 84, bitsInPerSecond: 1_000_000, bitsOutPerSecond: 100_000 });
    expect(frame.links[1]).toMatchObject({ state: 'down', reason: 'probes failing (timeout)', newConnections: 3, share: 0.75, lossPercent: 35 });
  });

  it('measures intervals and rates on the monotonic clock: a wall-clock step between readings changes neither', () => {
    const stepped = (wallStep: number) => liveFrame(first, sample(9000, previous.snapshot.links, wallStep), sample(10_000, current.snapshot.links, wallStep));
    const plain = liveFrame(first, previous, current);
    for (const wallStep of [-3_600_000, 3_600_000]) {
      const frame = stepped(wallStep);
      expect({ ...frame, time: plain.time }).toEqual(plain);
      expect(frame.time).toBe(new Date(10_000 + wallStep).toISOString());
    }
  });

  it('formats one line per link under a head line (golden)', () => {
    expect(formatLiveView(liveFrame(first, previous, current), { keys: true })).toEqual([
      'mwan status --watch  1970-01-01T00:00:10.000Z  every 1.0 s, 10 s since start',
      'LINK  IF    TIER  STATE        NEW  SHARE  SHARE-ALL  CONNS  IN           OUT         RTT     LOSS  REASON',
      'isp1  wan1  0     up           1    25%    37%        3      1.00 Mbit/s  100 kbit/s  0.4 ms  0%    probes answered',
      'isp2  wan2  0     down (idle)  3    75%    63%        3      0 bit/s      0 bit/s     -       35%   probes failing (timeout)',
      '',
      'q or Ctrl-C to quit',
    ]);
  });

  it('says what it cannot know: no new connections yet, no watch, a link that appeared', () => {
    const lone = sample(1000, [link('isp1', 5, 10, 10, { health: null, active: null, conntrackEntries: null })]);
    const frame = liveFrame(lone, lone, sample(2000, [link('isp1', 5, 10, 10, { health: null, active: null, conntrackEntries: null }), link('isp3', 0, 0, 0)]));
    expect(frame.links[0]).toMatchObject({ state: 'unknown', reason: 'no mwan watch running', share: null, connections: null });
    expect(frame.links[1]).toMatchObject({ newConnections: null, bitsInPerSecond: null });
    expect(formatLiveView(frame)[2]).toMatch(/^isp1 +wan1 +0 +unknown +0 +- +- +- +0 bit\/s/);
  });

  it('scales bit rates', () => {
    expect([999, 1000, 12_345, 123_456_789, 2e12, null].map(formatBitRate)).toEqual(['999 bit/s', '1.00 kbit/s', '12.3 kbit/s', '123 Mbit/s', '2.00 Tbit/s', '-']);
  });
});
