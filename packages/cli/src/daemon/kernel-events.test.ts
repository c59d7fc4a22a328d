import { describe, expect, it } from '@jest/globals';
import { subscribedIn } from './kernel-events.js';

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
