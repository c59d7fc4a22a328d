import { describe, expect, it } from '@jest/globals';
import { parsePingLine } from './ping-line.js';

// Lines as iputils 20221126 prints them (`ping -n -U -O -i 0.5 -I IFACE -m MARK TARGET`).
describe('parsePingLine', () => {
  it('reads an answer\'s sequence number and round-trip time, IPv4 and IPv6', () => {
    expect(parsePingLine('stdout', '64 bytes from 10.201.0.2: icmp_seq=1 ttl=64 time=0.066 ms')).toEqual({ kind: 'reply', seq: 1, rttMs: 0.066 });
    expect(parsePingLine('stdout', '64 bytes from fd00:1::2: icmp_seq=65535 ttl=64 time=12.5 ms')).toEqual({ kind: 'reply', seq: 65535, rttMs: 12.5 });
  });

  it('reads a lost echo', () => {
    expect(parsePingLine('stdout', 'no answer yet for icmp_seq=3')).toEqual({ kind: 'lost', seq: 3 });
  });

  it('fails an echo on an unreachable or prohibited answer, shortened as before', () => {
    expect(parsePingLine('stdout', 'From 10.37.2.1 icmp_seq=4 Destination Host Unreachable')).toEqual({ kind: 'failed', seq: 4, error: 'Destination Host Unreachable' });
    expect(parsePingLine('stdout', 'From 10.37.2.1 icmp_seq=5 Packet filtered')).toEqual({ kind: 'other' });
    expect(parsePingLine('stdout', 'From fd00::1 icmp_seq=6 Destination unreachable: Administratively prohibited'))
      .toEqual({ kind: 'failed', seq: 6, error: 'Destination unreachable: Administratively prohibited' });
  });

  it('passes on ping\'s complaints on stderr, but not its warnings', () => {
    expect(parsePingLine('stderr', 'ping: sendmsg: Network is unreachable')).toEqual({ kind: 'error', error: 'sendmsg: Network is unreachable' });
    expect(parsePingLine('stderr', 'ping: SO_BINDTODEVICE wan2: No such device')).toEqual({ kind: 'error', error: 'SO_BINDTODEVICE wan2: No such device' });
    expect(parsePingLine('stderr', 'ping: Warning: time of day goes back (-7199999726us), taking countermeasures')).toEqual({ kind: 'other' });
  });

  it('ignores the header, duplicates and blank lines', () => {
    expect(parsePingLine('stdout', 'PING 10.201.0.2 (10.201.0.2) from 10.201.0.1 wan2: 56(84) bytes of data.')).toEqual({ kind: 'other' });
    expect(parsePingLine('stdout', '64 bytes from 10.201.0.2: icmp_seq=1 ttl=64 time=0.1 ms (DUP!)')).toEqual({ kind: 'other' });
    expect(parsePingLine('stderr', '  ')).toEqual({ kind: 'other' });
  });
});
