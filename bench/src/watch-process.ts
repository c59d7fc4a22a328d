import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { findMwanCli, type Lab } from '@mwan/lab';
import { waitUntil } from './poll.js';

export interface TimedLine {
  /** performance.now() when the line arrived here. */
  at: number;
  text: string;
}

/** `mwan watch` running in the lab's router namespace, with its log lines timed as they arrive. */
export class WatchProcess {
  readonly lines: TimedLine[] = [];
  private stderr = '';

  private constructor(private readonly child: ResultPromise) {
    createInterface({ input: child.stdout! }).on('line', (text) => this.lines.push({ at: performance.now(), text }));
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4096);
    });
  }

  /**
   * Starts watch and waits for its "watching" line (its first apply is done then). `args` go to
   * `mwan watch`, `env` is added to its environment.
   */
  static async start(lab: Lab, config: string, options: { args?: readonly string[]; env?: Readonly<Record<string, string>> } = {}): Promise<WatchProcess> {
    const child = execa('ip', ['netns', 'exec', lab.ns.router, process.execPath, findMwanCli(), '--run-dir', lab.runDir, 'watch', '--config', config, ...(options.args ?? [])], {
      buffer: false, stdin: 'ignore', reject: false, env: options.env ?? {},
    }) as ResultPromise;
    const watch = new WatchProcess(child);
    try {
      await waitUntil(async () => watch.find(0, /^watching/), 20_000, `mwan watch start${watch.stderr ? ` (${watch.stderr.trim()})` : ''}`);
    } catch (error) {
      await watch.stop();
      throw error;
    }
    return watch;
  }

  /** The first line that arrived at or after `after` and matches. */
  find(after: number, pattern: RegExp): TimedLine | undefined {
    return this.lines.find((l) => l.at >= after && pattern.test(l.text));
  }

  /** The daemon's pid: `ip netns exec` runs node in its own place. */
  get pid(): number {
    if (this.child.pid === undefined) throw new Error('mwan watch did not start');
    return this.child.pid;
  }

  /** Sends `signal` to watch. */
  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Waits (polling what has arrived, no process started) for a line at or after `after` that matches. */
  async waitFor(pattern: RegExp, after: number, timeoutMs: number, what: string): Promise<TimedLine> {
    return waitUntil(async () => this.find(after, pattern), timeoutMs, what, 2);
  }

  /** Asks watch to re-read its config (it queues reloads, never runs two at once). */
  hangUp(): void {
    this.child.kill('SIGHUP');
  }

  /** SIGTERM: watch stops and leaves the ruleset in place. */
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.child;
  }
}
