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

/** `ip monitor link address route rule`, started again if it ends while the daemon runs. */
export class IpMonitorEvents implements KernelEvents {
  private child?: ResultPromise<{ stdout: 'pipe'; stderr: 'pipe'; reject: false; buffer: false }>;
  private stopped = false;

  start(onChange: () => void, onError: (message: string) => void): void {
    if (this.stopped) return;
    const child = execa('ip', ['monitor', 'link', 'address', 'route', 'rule'], { stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false });
    this.child = child;
    child.stdout.on('data', () => onChange());
    void child.then((result) => {
      if (this.stopped) return;
      onError(`ip monitor ended (exit ${String(result.exitCode)}); starting it again in 1 s`);
      setTimeout(() => this.start(onChange, onError), 1000).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.child?.kill('SIGTERM');
    await this.child;
  }
}
