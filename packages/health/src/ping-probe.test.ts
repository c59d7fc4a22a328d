import { describe, expect, it } from '@jest/globals';
import { pingArgs, shorten } from './ping-probe.js';

describe('pingArgs', () => {
  it('keeps one ping running: bound to the interface, with the mark, the interval, and a line for every lost echo', () => {
    expect(pingArgs('wan2', 2, '172.16.1.100', 0.5)).toEqual(['-n', '-U', '-O', '-i', '0.5', '-I', 'wan2', '-m', '2', '172.16.1.100']);
    expect(pingArgs('ppp0', 0x10, '1.1.1.1', 0.01 + 0.02)).toContain('0.03');
  });
});

describe('shorten', () => {
  it('drops ping\'s name and the sender of an ICMP error', () => {
    expect(shorten('ping: sendmsg: No buffer space available')).toBe('sendmsg: No buffer space available');
    expect(shorten('From 10.37.2.1 icmp_seq=1 Destination Host Unreachable')).toBe('Destination Host Unreachable');
    expect(shorten('x'.repeat(200))).toHaveLength(120);
  });
});
