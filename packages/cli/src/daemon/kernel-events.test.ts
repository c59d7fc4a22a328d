import { describe, expect, it } from '@jest/globals';
import { NftTransactions, subscribedIn } from './kernel-events.js';

// /proc/net/netlink with an `ip monitor` (pid 32467, route groups) and an `nft monitor` (pid
// 32468, NFNLGRP_NFTABLES), and a socket of pid 32469 with no group yet.
const TABLE = `sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
000000009403eebc 0   0          00000000 0        0        0     2        0        4
00000000c18411b9 0   32467      040405d1 0        0        0     2        0        3687658
00000000e9ef3a10 12  32468      00000040 0        0        0     2        0        3686737
00000000e9ef3a11 12  32469      00000000 0        0        0     2        0        3686738
`;

describe('subscribedIn', () => {
  it('finds a monitor by its port id once it has joined a multicast group', () => {
    expect(subscribedIn(TABLE, 32467)).toBe(true);
    expect(subscribedIn(TABLE, 32468)).toBe(true);
  });

  it('does not count a socket without groups, another pid, or a pid that is a prefix of one listed', () => {
    expect(subscribedIn(TABLE, 32469)).toBe(false);
    expect(subscribedIn(TABLE, 3246)).toBe(false);
    expect(subscribedIn(TABLE, 12)).toBe(false);
    expect(subscribedIn('', 32467)).toBe(false);
  });
});

describe('NftTransactions', () => {
  const feed = (lines: readonly string[]) => {
    const t = new NftTransactions();
    return lines.map((line) => t.line(line)).filter((change) => change !== undefined);
  };

  it('names the process of each transaction that changed a table, chain, set or rule, once, at its end', () => {
    expect(feed([
      'delete rule inet mwan lan handle 4',
      'delete table inet mwan',
      'add table inet mwan',
      'add chain inet mwan lan { type filter hook prerouting priority mangle; policy accept; }',
      '# new generation 7 by process 4242 (nft)',
      'add rule ip filter input counter packets 0 bytes 0',
      '# new generation 8 by process 99 (iptables-nft)',
    ])).toEqual([{ by: 4242, onlyMwan: true }, { by: 99, onlyMwan: false }]);
  });

  it('ignores transactions of set elements alone, but not elements with anything else', () => {
    expect(feed([
      'add element inet fw bans { 192.0.2.1 }',
      'delete element inet fw bans { 192.0.2.2 }',
      '# new generation 3 by process 10 (fail2ban)',
      'add element inet fw bans { 192.0.2.3 }',
      'flush set inet fw bans',
      '# new generation 4 by process 10 (fail2ban)',
    ])).toEqual([{ by: 10, onlyMwan: false }]);
  });

  it('says a transaction that touched another table besides mwan\'s is not only mwan\'s', () => {
    expect(feed(['add rule inet mwan lan counter', 'add rule ip filter input drop', '# new generation 9 by process 7 (nft)'])).toEqual([{ by: 7, onlyMwan: false }]);
    expect(feed(['delete table inet mwan', 'add table inet mwan', 'add chain inet mwan lan', '# new generation 9 by process 7 (nft)'])).toEqual([{ by: 7, onlyMwan: true }]);
  });

  it('takes a lost-events notice as a change at once, by nobody known, forgetting the transaction it broke into', () => {
    expect(feed(['add rule ip filter input drop', '# ERROR: We lost some netlink events!', '# new generation 3 by process 7 (nft)'])).toEqual([{}]);
  });

  it('takes a generation line without a process as a change by someone unknown, and a bare one as nothing', () => {
    expect(feed(['delete table ip nat', '# new generation 5'])).toEqual([{ onlyMwan: false }]);
    expect(feed(['# new generation 6 by process 1 (nft)', ''])).toEqual([]);
  });
});
