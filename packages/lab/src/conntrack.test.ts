import { describe, it, expect } from '@jest/globals';
import { parseConntrack } from './conntrack.js';

describe('parseConntrack', () => {
  it('reads original and reply tuples, state, flags and mark', () => {
    const text = [
      'ipv4     2 tcp      6 117 TIME_WAIT src=192.168.157.3 dst=172.16.1.100 sport=40000 dport=7000 src=172.16.1.100 dst=10.37.2.253 sport=7000 dport=40000 [ASSURED] mark=2 use=1',
      'ipv4     2 udp      17 28 src=192.168.157.10 dst=172.16.1.100 sport=5000 dport=7000 src=172.16.1.100 dst=10.37.1.253 sport=7000 dport=5000 mark=1 use=1',
      'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.',
    ].join('\n');
    expect(parseConntrack(text)).toEqual([
      {
        proto: 'tcp',
        state: 'TIME_WAIT',
        original: { src: '192.168.157.3', dst: '172.16.1.100', sport: 40000, dport: 7000 },
        reply: { src: '172.16.1.100', dst: '10.37.2.253', sport: 7000, dport: 40000 },
        mark: 2,
        flags: ['ASSURED'],
      },
      {
        proto: 'udp',
        original: { src: '192.168.157.10', dst: '172.16.1.100', sport: 5000, dport: 7000 },
        reply: { src: '172.16.1.100', dst: '10.37.1.253', sport: 7000, dport: 5000 },
        mark: 1,
        flags: [],
      },
    ]);
  });

  it('reads icmp entries without ports and a missing mark as 0', () => {
    const [entry] = parseConntrack('ipv4     2 icmp     1 29 src=1.1.1.1 dst=2.2.2.2 type=8 code=0 id=7 src=2.2.2.2 dst=1.1.1.1 type=0 code=0 id=7 use=1');
    expect(entry.original).toEqual({ src: '1.1.1.1', dst: '2.2.2.2' });
    expect(entry.reply).toEqual({ src: '2.2.2.2', dst: '1.1.1.1' });
    expect(entry.mark).toBe(0);
  });
});
