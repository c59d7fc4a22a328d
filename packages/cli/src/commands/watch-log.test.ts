import { describe, expect, it } from '@jest/globals';
import { formatLogLine } from './watch-log.js';

const at = new Date('2026-12-01T10:00:00.000Z');

describe('watch log lines', () => {
  it('text: the line as people read it', () => {
    expect(formatLogLine('text', 'link isp2 down after 3 failed probes (last: timeout)', { event: 'link-state', link: 'isp2', from: 'up', to: 'down', reason: 'failures', count: 3, lastError: 'timeout' }, at))
      .toBe('link isp2 down after 3 failed probes (last: timeout)\n');
  });

  it('json: one object a line with time, event, message and the fields', () => {
    const line = formatLogLine('json', 'applied active links isp1 in 85 ms', { event: 'apply', result: 'ok', durationMs: 85, active: ['isp1'] }, at);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd().includes('\n')).toBe(false);
    expect(JSON.parse(line)).toEqual({ time: '2026-12-01T10:00:00.000Z', event: 'apply', message: 'applied active links isp1 in 85 ms', result: 'ok', durationMs: 85, active: ['isp1'] });
  });

  it('json: a note without an event is a message, and newlines stay inside the object', () => {
    expect(JSON.parse(formatLogLine('json', 'SIGTERM: stopping\nsecond line', undefined, at))).toEqual({ time: '2026-12-01T10:00:00.000Z', event: 'message', message: 'SIGTERM: stopping\nsecond line' });
  });
});
