import { describe, expect, it } from '@jest/globals';
import { fingerprintListed, withoutLiveAdditions } from './nft-fingerprint.js';

const TABLE = `table inet mwan {
\tchain prerouting {
\t\ttype filter hook prerouting priority mangle; policy accept;
\t\tmeta nfproto ipv4 ct state new meta nftrace set 1 comment "mwan: trace 4242"
\t\tiifname "eth0" goto lan
\t}
\tchain output {
\t\ttype route hook output priority mangle; policy accept;
\t\tsocket cgroupv2 level 1 "unified/mwan-use-77" meta mark set meta mark & 0xffffff00 | 0x00000002 comment "mwan: use 77 link isp2"
\t\tmeta mark != 0x00000000 return
\t}
\tchain use_78 {
\t\ttype route hook output priority mangle; policy accept;
\t\tsocket cgroupv2 level 1 "unified/mwan-use-78" meta mark set 0x00000001 comment "mwan: use 78 link isp1"
\t}
}`;

const BARE = `table inet mwan {
\tchain prerouting {
\t\ttype filter hook prerouting priority mangle; policy accept;
\t\tiifname "eth0" goto lan
\t}
\tchain output {
\t\ttype route hook output priority mangle; policy accept;
\t\tmeta mark != 0x00000000 return
\t}
}`;

describe('withoutLiveAdditions', () => {
  it('leaves out the rules and chain of trace and use processes that are alive', () => {
    expect(withoutLiveAdditions(TABLE, () => true)).toBe(BARE);
    expect(fingerprintListed(withoutLiveAdditions(TABLE, () => true))).toBe(fingerprintListed(BARE));
  });

  it('keeps what a dead process left, so the daemon removes it', () => {
    expect(withoutLiveAdditions(TABLE, () => false)).toBe(TABLE);
    const onlyTraceAlive = withoutLiveAdditions(TABLE, (pid) => pid === 4242);
    expect(onlyTraceAlive).not.toContain('mwan: trace 4242');
    expect(onlyTraceAlive).toContain('mwan: use 77 link isp2');
    expect(onlyTraceAlive).toContain('chain use_78 {');
  });
});

describe('fingerprintListed', () => {
  it('ignores counter values and the sources a sticky set holds', () => {
    const listed = (elements: string) => `table inet mwan {\n\tcounter isp1 {\n\t\tpackets 5 bytes 300\n\t}\n\tset sticky.bank.isp1 {\n\t\ttype ipv4_addr\n\t\tsize 65535\n\t\tflags dynamic,timeout\n\t\ttimeout 10m\n${elements}\t}\n}\n`;
    const empty = listed('');
    expect(fingerprintListed(listed('\t\telements = { 192.168.157.3 expires 9m58s120ms }\n'))).toBe(fingerprintListed(empty));
    expect(fingerprintListed(listed('\t\telements = { 192.168.157.3 expires 9m58s120ms, 192.168.157.4 expires 1s,\n\t\t\t     192.168.157.5 expires 3m }\n'))).toBe(fingerprintListed(empty));
    expect(fingerprintListed(empty.replace('timeout 10m', 'timeout 1m'))).not.toBe(fingerprintListed(empty));
  });
});
