import { describe, expect, it } from '@jest/globals';
import { findCgroup2Mount, nftCgroupPath, ownCgroup2 } from './cgroup.js';
import { useRule } from './use-rule.js';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

describe('mwan use: the cgroup and the rule', () => {
  it('finds cgroup2 in a hybrid layout and in a unified one, from mountinfo', () => {
    expect(findCgroup2Mount(HYBRID)).toEqual({ root: '/', mountPoint: '/sys/fs/cgroup/unified' });
    expect(findCgroup2Mount('29 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n')).toEqual({ root: '/', mountPoint: '/sys/fs/cgroup' });
    expect(findCgroup2Mount('25 1 0:2 / /mnt/my\\040cg rw - cgroup2 none rw\n')?.mountPoint).toBe('/mnt/my cg');
    expect(findCgroup2Mount('31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n')).toBeUndefined();
  });

  it('gives nft the path under /sys/fs/cgroup and the level in the hierarchy', () => {
    expect(nftCgroupPath({ root: '/', mountPoint: '/sys/fs/cgroup/unified' }, 'mwan-use-42')).toEqual({ path: 'unified/mwan-use-42', level: 1 });
    expect(nftCgroupPath({ root: '/', mountPoint: '/sys/fs/cgroup' }, 'mwan-use-42')).toEqual({ path: 'mwan-use-42', level: 1 });
    expect(nftCgroupPath({ root: '/lxc/c1', mountPoint: '/sys/fs/cgroup' }, 'mwan-use-42')).toEqual({ path: 'mwan-use-42', level: 3 });
    expect(() => nftCgroupPath({ root: '/', mountPoint: '/mnt/cg' }, 'x')).toThrow(/outside \/sys\/fs\/cgroup/);
  });

  it('reads its own v2 cgroup', () => {
    expect(ownCgroup2('9:name=systemd:/\n0::/user.slice/session-1.scope\n')).toBe('/user.slice/session-1.scope');
    expect(ownCgroup2('9:name=systemd:/\n')).toBeUndefined();
  });

  it('writes the link mark into mwan\'s bits only, on the packet and the connection', () => {
    const cgroup = { path: 'unified/mwan-use-42', level: 1 };
    expect(useRule({ cgroup, mark: 2, mask: 0xff, link: 'lte', pid: 42 }).join(' '))
      .toBe('socket cgroupv2 level 1 "unified/mwan-use-42" meta mark set meta mark & 0xffffff00 | 0x2 ct mark set ct mark & 0xffffff00 | 0x2 comment "mwan: use 42 link lte"');
    expect(useRule({ cgroup, mark: 2, mask: 0xffffffff, link: 'lte', pid: 42 }).join(' '))
      .toBe('socket cgroupv2 level 1 "unified/mwan-use-42" meta mark set 0x2 ct mark set 0x2 comment "mwan: use 42 link lte"');
  });
});
