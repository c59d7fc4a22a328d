import { execa, type ResultPromise } from 'execa';
import type { InjectionToken } from 'tsyringe';

/**
 * Tells the daemon that links, addresses or routes changed. A line only means "look again"
 * (iproute2 6.1 prints `ip monitor` as text, `-json` or not): the daemon reads the kernel afresh.
 */
export interface KernelEvents {
  start(onChange: () => void, onError: (message: string) => void): void;
  stop(): Promise<void>;
}

export const KERNEL_EVENTS: InjectionToken<KernelEvents> = Symbol.for('mwan.KernelEvents');

type Monitor = ResultPromise<{ stdout: 'pipe'; stderr: 'pipe'; reject: false; buffer: false }>;

/** The monitors, each started again if it ends while the daemon runs. */
const MONITORS: readonly (readonly [string, readonly string[]])[] = [
  ['ip', ['monitor', 'link', 'address', 'route', 'rule']],
  // Tables and rules of any family (another program emptying the whole ruleset, `systemctl
  // reload nftables`); not set elements (ban lists change all day) nor traces.
  ['nft', ['monitor', 'rules']],
  ['nft', ['monitor', 'tables']],
];

/** `ip monitor link address route rule`, `nft monitor rules` and `nft monitor tables`. */
export class KernelMonitors implements KernelEvents {
  private readonly children = new Set<Monitor>();
  private stopped = false;

  start(onChange: () => void, onError: (message: string) => void): void {
    for (const [file, args] of MONITORS) this.run(file, args, onChange, onError);
  }

  private run(file: string, args: readonly string[], onChange: () => void, onError: (message: string) => void): void {
    if (this.stopped) return;
    const child = execa(file, args, { stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false });
    this.children.add(child);
    child.stdout.on('data', () => onChange());
    void child.then((result) => {
      this.children.delete(child);
      if (this.stopped) return;
      onError(`${file} ${args.join(' ')} ended (exit ${String(result.exitCode)}); starting it again in 1 s`);
      setTimeout(() => this.run(file, args, onChange, onError), 1000).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const child of this.children) child.kill('SIGTERM');
    await Promise.all(this.children);
  }
}
