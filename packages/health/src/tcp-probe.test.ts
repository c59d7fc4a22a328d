import { describe, expect, it } from '@jest/globals';
import { parseSocat, socatArgs } from './tcp-probe.js';

describe('socatArgs', () => {
  it('sets SO_MARK and binds to the device on the connecting address', () => {
    const args = socatArgs('wan2', 2, '172.16.1.100', 443, 0.3);
    expect(args.at(-1)).toBe('TCP4:172.16.1.100:443,so-bindtodevice=wan2,setsockopt-int=1:36:2,connect-timeout=0.3');
    expect(args).toContain('-T0.3');
  });
});

describe('parseSocat', () => {
  const ok = [
    '2026/11/29 12:14:13.746772 socat[9592] N opening character device "/dev/null" for reading and writing',
    '2026/11/29 12:14:13.746861 socat[9592] N opening connection to AF=2 172.16.1.100:7000',
    '2026/11/29 12:14:13.747291 socat[9592] N starting data transfer loop with FDs [5,5] and [6,6]',
    '',
  ].join('\n');

  it('takes the RTT from the log timestamps around the connect', () => {
    expect(parseSocat(0, ok, 12)).toEqual({ ok: true, rttMs: 0.43 });
  });

  it('falls back to the elapsed time when the log has no timestamps', () => {
    expect(parseSocat(0, '', 7.5)).toEqual({ ok: true, rttMs: 7.5 });
  });

  it('names timeouts and refusals', () => {
    expect(parseSocat(1, '2026/11/29 12:14:08.1 socat[9499] E connecting to AF=2 172.16.1.100:7000: Connection timed out\n', 300))
      .toEqual({ ok: false, error: 'timeout' });
    expect(parseSocat(1, '2026/11/29 12:14:08 socat[9497] E connect(6, AF=2 172.16.1.100:7001, 16): Connection refused\n', 1))
      .toEqual({ ok: false, error: 'connection refused' });
    expect(parseSocat(1, '2026/11/29 12:14:08 socat[1] E setsockopt(6, 1, 25, "wan9", 5): No such device\n', 1))
      .toEqual({ ok: false, error: 'setsockopt(6, 1, 25, "wan9", 5): No such device' });
  });
});
