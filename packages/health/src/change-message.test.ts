import { describe, expect, it } from '@jest/globals';
import { changeMessage } from './change-message.js';

describe('changeMessage', () => {
  it('says what decided each change, in one line', () => {
    expect(changeMessage({ link: 'isp2', reason: { kind: 'failures', count: 3, lastError: 'timeout' } })).toBe('link isp2 down after 3 failed probes (last: timeout)');
    expect(changeMessage({ link: 'isp2', reason: { kind: 'failures', count: 3, of: 5, lastError: 'timeout' } })).toBe('link isp2 down after 3 failed probes of the last 5 (last: timeout)');
    expect(changeMessage({ link: 'isp2', reason: { kind: 'successes', count: 1, rttMs: 0.3 } })).toBe('link isp2 up after 1 successful probe (rtt 0.3 ms)');
    expect(changeMessage({ link: 'isp2', reason: { kind: 'loss', lossPercent: 35, maxLoss: 20 } })).toBe('link isp2 down: 35% of the last probes lost (maxLoss 20%)');
    expect(changeMessage({ link: 'isp2', reason: { kind: 'probation', count: 3, rounds: 6, lastError: 'timeout' } }))
      .toBe('link isp2 down again: 3 failed probes in its first 6 since it came back (last: timeout)');
  });
});
