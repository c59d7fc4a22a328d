import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import type { InjectionToken } from 'tsyringe';

/**
 * Tells the daemon that links, addresses or routes changed. A line only means "look again"
 * (iproute2 6.1 prints `ip monitor` as text, `-json` or not): the daemon reads the kernel afresh.
 */
export interface KernelEvents {
  /** Resolves once every monitor listens (or could not be seen to within a few seconds). */
  start(onChange: (change?: KernelChange) => void, onError: (message: string) => void): Promise<void>;
  stop(): Promise<void>;
  /** Every monitor is running and subscribed: no change goes unannounced (the daemon keeps its last read only then). */
  listening(): boolean;
}

/**
 * What is known of a change: for an nft transaction, the process that made it, and whether all
 * it changed was in mwan's own table.
 */
export interface KernelChange {
  by?: number;
  onlyMwan?: boolean;
}

export const KERNEL_EVENTS: InjectionToken<KernelEvents> = Symbol.for('mwan.KernelEvents');

type Monitor = ResultPromise<{ stdout: 'pipe'; stderr: 'pipe'; reject: false; buffer: false }>;

/** The monitors, each started again if it ends while the daemon runs. */
const MONITORS: readonly (readonly [string, readonly string[]])[] = [
  ['ip', ['monitor', 'link', 'address', 'route', 'rule']],
  // Every table, chain, set and rule of any family (another program emptying the whole ruleset,
  // `systemctl reload nftables`), each transaction ended by the line that names its process.
  ['nft', ['monitor']],
];

/**
 * `nft monitor`'s lines, one transaction at a time: its changes, then
 * `# new generation N by process PID (name)`. A transaction that only added or deleted set
 * elements (ban lists change all day) is no change to mwan. Any other `#` line (`# ERROR: We
 * lost some netlink events!`) is a change at once: what was lost is not known.
 */
export class NftTransactions {
  private changed = false;
  private onlyMwan = true;

  /** One line; the transaction it ended, when that changed more than set elements. */
  line(text: string): KernelChange | undefined {
    const end = /^# new generation \d+(?: by process (\d+))?/.exec(text);
    if (end) {
      const changed = { ...(end[1] === undefined ? {} : { by: Number(end[1]) }), onlyMwan: this.onlyMwan };
      const any = this.changed;
      this.changed = false;
      this.onlyMwan = true;
      return any ? changed : undefined;
    }
    if (text.startsWith('#')) {
      this.changed = false;
      this.onlyMwan = true;
      return {};
    }
    if (text.trim() === '' || /^(add|delete) element /.test(text)) return undefined;
    this.changed = true;
    // `add rule inet mwan lan …`, `delete table inet mwan`: the family and table come third and fourth.
    const [, , family, table] = text.split(' ');
    if (family !== 'inet' || table !== 'mwan') this.onlyMwan = false;
    return undefined;
  }
}

/**
 * How long a monitor may take to subscribe. One not seen to within it still announces what it
 * hears, but the daemon then keeps no read of the kernel (it cannot know that nothing was missed).
 */
const SUBSCRIBE_WAIT_MS = 3000;
const SUBSCRIBE_POLL_MS = 5;

/**
 * Whether /proc/net/netlink (this network namespace's netlink sockets) lists a socket of `pid`
 * with multicast groups: the monitor is subscribed, and hears every change from then on. A
 * socket bound by the kernel for a process gets the process's pid as its port id.
 */
export function subscribedIn(procNetNetlink: string, pid: number): boolean {
  return procNetNetlink.split('\n').slice(1).some((line) => {
    const [, , portId, groups] = line.trim().split(/\s+/);
    return portId === String(pid) && groups !== undefined && /^[0-9a-f]+$/i.test(groups) && !/^0+$/.test(groups);
  });
}

/** `ip monitor link address route rule`, and `nft monitor`. */
export class KernelMonitors implements KernelEvents {
  private readonly children = new Set<Monitor>();
  private readonly subscribed = new Set<Monitor>();
  private stopped = false;

  listening(): boolean {
    return !this.stopped && this.subscribed.size === MONITORS.length;
  }

  async start(onChange: (change?: KernelChange) => void, onError: (message: string) => void): Promise<void> {
    await Promise.all(MONITORS.map(([file, args]) => this.run(file, args, onChange, onError)));
  }

  private async run(file: string, args: readonly string[], onChange: (change?: KernelChange) => void, onError: (message: string) => void, again = false): Promise<void> {
    if (this.stopped) return;
    const child = execa(file, args, { stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false });
    this.children.add(child);
    if (file === 'nft') {
      const transactions = new NftTransactions();
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (text) => {
        const change = transactions.line(text);
        if (change) onChange(change);
      });
    } else child.stdout.on('data', () => onChange());
    // What a monitor says on stderr is about events it lost (`ip monitor`: no buffer space).
    child.stderr.on('data', () => onChange());
    void child.then((result) => {
      this.children.delete(child);
      this.subscribed.delete(child);
      if (this.stopped) return;
      onError(`${file} ${args.join(' ')} ended (exit ${String(result.exitCode)}); starting it again in 1 s`);
      setTimeout(() => void this.run(file, args, onChange, onError, true), 1000).unref();
    });
    // A change made before the monitor subscribed is not announced: it counts as listening from
    // its subscription on.
    if (await waitSubscribed(child)) {
      if (this.children.has(child)) this.subscribed.add(child);
    } else if (this.children.has(child) && !this.stopped) {
      onError(`${file} ${args.join(' ')} was not seen to subscribe within ${SUBSCRIBE_WAIT_MS / 1000} s; every apply reads the kernel afresh`);
    }
    // What changed while it was not running went unannounced: look again.
    if (again) onChange();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const child of this.children) child.kill('SIGTERM');
    await Promise.all(this.children);
  }
}

/** true once the child's netlink socket is subscribed; false if it ended or was not seen to in time. */
async function waitSubscribed(child: Monitor): Promise<boolean> {
  const pid = child.pid;
  if (pid === undefined) return false;
  const deadline = performance.now() + SUBSCRIBE_WAIT_MS;
  while (child.exitCode === null && performance.now() < deadline) {
    const text = await readFile('/proc/net/netlink', 'utf8').catch(() => undefined);
    if (text === undefined) return false;
    if (subscribedIn(text, pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, SUBSCRIBE_POLL_MS));
  }
  return false;
}
