import { describe, expect, it } from '@jest/globals';
import { DaemonStats } from './daemon-stats.js';

describe('the daemon\'s counters', () => {
  it('counts reconciles, checks, repairs and applies by result, and keeps the last duration', () => {
    const stats = new DaemonStats();
    expect(stats.sample).toEqual({ reconciles: 0, checks: 0, repairs: 0, applies: { ok: 0, failed: 0 }, lastApplySeconds: null });
    stats.observe({ event: 'reconcile' });
    stats.observe({ event: 'check', scope: 'full' });
    stats.observe({ event: 'check', scope: 'quick' });
    stats.observe({ event: 'apply', result: 'ok', durationMs: 80, active: ['a'] });
    stats.observe({ event: 'reconcile' });
    stats.observe({ event: 'apply', result: 'failed', durationMs: 1250, active: ['a'], error: 'x' });
    stats.observe({ event: 'repair', reason: 'applied-elsewhere' });
    stats.observe({ event: 'flush', link: 'a', deleted: 3 });
    expect(stats.sample).toEqual({ reconciles: 2, checks: 2, repairs: 1, applies: { ok: 1, failed: 1 }, lastApplySeconds: 1.25 });
  });

  it('goes on from a metrics.json written before checks were counted', () => {
    const stats = new DaemonStats({ reconciles: 7, repairs: 2, applies: { ok: 7, failed: 0 }, lastApplySeconds: 0.1 });
    stats.observe({ event: 'check', scope: 'full' });
    expect(stats.sample).toMatchObject({ reconciles: 7, checks: 1 });
  });
});
