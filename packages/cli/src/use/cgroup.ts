import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { runtimeError } from '@mwan/core';
import { processAlive } from '@mwan/engine';

/** Where nft 1.0.6 resolves `socket cgroupv2` paths: always under this directory. */
export const NFT_CGROUP_BASE = '/sys/fs/cgroup';

export interface Cgroup2Mount {
  /** Where the cgroup2 hierarchy is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` in a hybrid layout). */
  mountPoint: string;
  /** The mount's root inside the hierarchy (`/` unless in a cgroup namespace). */
  root: string;
}

/**
 * The cgroup2 mount from `/proc/self/mountinfo`: fields `id parent dev root mountpoint options
 * [optional...] - fstype source superoptions`. Mount points escape space, tab, newline and
 * backslash as octal.
 */
export function findCgroup2Mount(mountinfo: string): Cgroup2Mount | undefined {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right || right.split(' ')[0] !== 'cgroup2') continue;
    const fields = left.split(' ');
    return { root: unescape(fields[3]), mountPoint: unescape(fields[4]) };
  }
  return undefined;
}

/** A cgroup's path as nft takes it (relative to NFT_CGROUP_BASE) and its level in the hierarchy. */
export function nftCgroupPath(mount: Cgroup2Mount, name: string): { path: string; level: number } {
  const full = posix.join(mount.mountPoint, name);
  const relative = posix.relative(NFT_CGROUP_BASE, full);
  if (relative.startsWith('..') || posix.isAbsolute(relative)) {
    throw runtimeError(`cgroup2 is mounted at ${mount.mountPoint}, outside ${NFT_CGROUP_BASE}, where nft looks for cgroup paths`);
  }
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  return { path: relative, level: depth(mount.root) + depth(name) };
}

/** The process's own cgroup in the v2 hierarchy (`0::/path` in /proc/self/cgroup). */
export function ownCgroup2(procCgroup: string): string | undefined {
  return procCgroup.split('\n').find((l) => l.startsWith('0::'))?.slice(3);
}

export const USE_CGROUP_PREFIX = 'mwan-use-';

/** A cgroup of its own for one `mwan use`, created, entered around a spawn, and removed. */
export class UseCgroup {
  readonly dir: string;

  private constructor(readonly mount: Cgroup2Mount, readonly name: string) {
    this.dir = join(mount.mountPoint, name);
  }

  static async create(pid: number): Promise<UseCgroup> {
    const mount = findCgroup2Mount(await readFile('/proc/self/mountinfo', 'utf8'));
    if (!mount) {
      throw runtimeError('no cgroup2 hierarchy is mounted here (see /proc/self/mountinfo); mwan use needs one. In a network namespace, '
        + '`ip netns exec` mounts a /sys of its own without cgroups: enter it with `nsenter --net=/run/netns/NAME` instead');
    }
    await removeStale(mount);
    const cgroup = new UseCgroup(mount, `${USE_CGROUP_PREFIX}${pid}`);
    await mkdir(cgroup.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw runtimeError(`cannot create cgroup ${cgroup.dir}: ${error.message}`, error);
    });
    return cgroup;
  }

  get nft(): { path: string; level: number } {
    return nftCgroupPath(this.mount, this.name);
  }

  /**
   * Runs `spawn` with this process inside the cgroup, so the child starts there (a fork inherits
   * the cgroup): none of its sockets is created outside. This process goes back right after.
   */
  async spawnInside<T>(spawn: () => T): Promise<T> {
    const home = ownCgroup2(await readFile('/proc/self/cgroup', 'utf8')) ?? '/';
    const homeProcs = join(this.mount.mountPoint, posix.relative(this.mount.root, home), 'cgroup.procs');
    await writeFile(join(this.dir, 'cgroup.procs'), String(process.pid));
    try {
      return spawn();
    } finally {
      await writeFile(homeProcs, String(process.pid));
    }
  }

  /** Processes still in it (a command that left something running in the background). */
  async members(): Promise<number[]> {
    const text = await readFile(join(this.dir, 'cgroup.procs'), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map(Number);
  }

  async remove(): Promise<void> {
    await rmdir(this.dir);
  }
}

/** Cgroups of earlier `mwan use` runs that were killed: empty ones are removed. */
async function removeStale(mount: Cgroup2Mount): Promise<void> {
  const entries = await readdir(mount.mountPoint).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number(entry.slice(USE_CGROUP_PREFIX.length));
    if (!entry.startsWith(USE_CGROUP_PREFIX) || !Number.isInteger(pid) || processAlive(pid)) continue;
    await rmdir(join(mount.mountPoint, entry)).catch(() => undefined);
  }
}
