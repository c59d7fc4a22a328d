import { describe, expect, it } from '@jest/globals';
import { parsePing, pingArgs } from './ping-probe.js';

describe('pingArgs', () => {
  it('binds to the interface and sets the mark, with a fractional timeout', () => {
    expect(pingArgs('wan2', 2, '172.16.1.100', 0.3)).toEqual(['-n', '-c', '1', '-W', '0.3', '-I', 'wan2', '-m', '2', '172.16.1.100']);
    expect(pingArgs('ppp0', 0x10, '1.1.1.1', 0.01 + 0.02)).toContain('0.03');
  });
});

describe('parsePing', () => {
  const answer = 'PING 172.16.1.100 (172.16.1.100) from 10.37.2.253 wan2: 56(84) bytes of data.\n64 bytes from 172.16.1.100: icmp_seq=1 ttl=64 time=0.291 ms\n';

  it('reads the round-trip time of an answer', () => {
    expect(parsePing(0, answer, '')).toEqual({ ok: true, rttMs: 0.291 });
  });

  it('calls a missing answer a timeout', () => {
    expect(parsePing(1, 'PING ...\n\n--- statistics ---\n1 packets transmitted, 0 received, 100% packet loss\n', '')).toEqual({ ok: false, error: 'timeout' });
  });

  it('passes on ping\'s own error, shortened', () => {
    expect(parsePing(1, '', 'ping: sendmsg: No buffer space available\n')).toEqual({ ok: false, error: 'sendmsg: No buffer space available' });
    expect(parsePing(2, '', 'ping: connect: Network is unreachable\n')).toEqual({ ok: false, error: 'connect: Network is unreachable' });
  });

  it('reports an ICMP error from a router on the way', () => {
    const out = 'PING 8.8.8.8 (8.8.8.8) 56(84) bytes of data.\nFrom 10.37.2.1 icmp_seq=1 Destination Host Unreachable\n';
    expect(parsePing(1, out, '')).toEqual({ ok: false, error: 'Destination Host Unreachable' });
  });

  it('does not take exit 0 without a time for an answer', () => {
    expect(parsePing(0, 'garbage', '').ok).toBe(false);
  });
});
