import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { formatTrace, toReport } from './trace-format.js';
import { connectionKey, natAddressFromConntrack, TraceAssembler } from './trace-parser.js';
import { handleFromEcho, traceRule } from './trace-rule.js';

/** `nft monitor trace` of two TCP connections and one UDP flow, captured in the lab (round-robin). */
const captured = readFileSync(new URL('./testdata/round-robin.trace', import.meta.url), 'utf8').split('\n').filter(Boolean);
const links = [{ name: 'isp1', mark: 1 }, { name: 'isp2', mark: 2 }];

describe('trace output', () => {
  it('puts the lines of each traced packet together: endpoints, the selecting rule, link chain, mark, interface, NAT', () => {
    const assembler = new TraceAssembler();
    const done = captured.flatMap((line, i) => assembler.feed(line, i));
    expect(assembler.drain()).toEqual([]);
    expect(done.map((c) => [c.protocol, c.dport, c.linkChain, c.mark, c.oif, c.nat?.address ?? c.nat?.text, c.complete])).toEqual([
      ['tcp', 7000, 'pick_isp1', 1, 'wan1', '10.37.1.253', true],
      ['tcp', 7000, 'pick_isp2', 2, 'wan2', 'masquerade comment "mwan: link isp2"', true],
      ['udp', 7000, 'pick_isp1', 1, 'wan1', '10.37.1.253', true],
    ]);
    expect(done[0]).toMatchObject({ hook: 'prerouting', iif: 'eth0', src: '192.168.157.3', dst: '172.16.1.100', rule: { chain: 'lan', verdict: 'goto pick_isp1' } });
    expect(done[0].rule?.text).toBe('numgen inc mod 2 vmap { 0 : goto pick_isp1, 1 : goto pick_isp2 } comment "mwan: strategy round-robin"');
    expect(done[0].sport).toEqual(expect.any(Number));
  });

  it('ignores other tables and lines that are not traces, and gives up on a packet that never reaches postrouting', () => {
    const assembler = new TraceAssembler(500);
    const prerouting = captured.filter((l) => l.includes(captured[0].split(' ')[2]) && / prerouting | lan | pick_/.test(l));
    expect(assembler.feed('trace id 0000beef ip filter input packet: iif "eth0" ip saddr 1.2.3.4 ip daddr 5.6.7.8', 0)).toEqual([]);
    expect(assembler.feed('# new generation 3 by process 1 (nft)', 0)).toEqual([]);
    for (const line of prerouting) expect(assembler.feed(line, 0)).toEqual([]);
    const [gone] = assembler.expire(600);
    expect(gone).toMatchObject({ complete: false, linkChain: 'pick_isp1', mark: 1 });
    expect(gone.oif).toBeUndefined();
  });

  it('reports the link and mark, and formats two lines', () => {
    const assembler = new TraceAssembler();
    const [first] = captured.flatMap((line, i) => assembler.feed(line, i));
    const report = toReport(first, links, 0xff, '10.37.1.253');
    expect(report).toMatchObject({ link: 'isp1', mark: 1, interface: 'wan1', nat: '10.37.1.253', chain: 'lan', complete: true });
    expect(formatTrace(report)).toBe(
      `192.168.157.3:${first.sport} → 172.16.1.100:7000 tcp  link isp1 (mark 0x1)  out wan1  nat 10.37.1.253\n`
      + '  rule (lan): numgen inc mod 2 vmap { 0 : goto pick_isp1, 1 : goto pick_isp2 } comment "mwan: strategy round-robin"\n',
    );
    // Without a link chain (an older ruleset that sets the mark by a map), the mark names the link, within the mask.
    expect(toReport({ ...first, linkChain: undefined, mark: 0x302 }, links, 0xff, undefined)).toMatchObject({ link: 'isp2', mark: 2, nat: '10.37.1.253' });
    expect(formatTrace(toReport({ ...first, linkChain: undefined, mark: undefined, rule: undefined, oif: undefined, nat: undefined, complete: false }, links, 0xff, undefined)))
      .toMatch(/ no link \(mwan left it alone\) {2}did not leave \(dropped or delivered locally\) {2}no nat\n {2}rule: none/);
    expect(connectionKey(first)).toBe(`tcp 192.168.157.3:${first.sport} 172.16.1.100:7000`);
  });

  it('reads the NAT address from conntrack, the trace rule and its handle', () => {
    expect(natAddressFromConntrack('tcp      6 119 TIME_WAIT src=192.168.157.3 dst=172.16.1.100 sport=1 dport=7000 src=172.16.1.100 dst=10.37.2.253 sport=7000 dport=1 [ASSURED] mark=2 use=1\n')).toBe('10.37.2.253');
    expect(natAddressFromConntrack('')).toBeUndefined();
    expect(traceRule({ from: '192.168.157.3', port: 53 }, 42).join(' ')).toBe('meta nfproto ipv4 ip saddr 192.168.157.3 meta l4proto { tcp, udp, sctp, dccp } th dport 53 ct state new meta nftrace set 1 comment "mwan: trace 42"');
    expect(handleFromEcho('insert rule inet mwan prerouting ct state new meta nftrace set 1 comment "mwan: trace 1" # handle 49\n# new generation 3')).toBe(49);
  });
});
