import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { findMwanCli, type Lab } from '@mwan/lab';
import { pollUntil } from './helpers.js';

const STREAM = { buffer: false, reject: false, stdin: 'ignore' } as const;

export interface Line {
  at: number;
  text: string;
}

/** `mwan watch` in the lab's router namespace; its stdout lines with the time each arrived. */
export class WatchProcess {
  readonly lines: Line[] = [];
  readonly exited: Promise<number>;
  private readonly child: ResultPromise<typeof STREAM>;
  private stderr = '';

  /** `env`: added to this process's environment for the watch (and what it starts). */
  constructor(lab: Lab, config: string, extra: readonly string[] = [], env: Readonly<Record<string, string>> = {}) {
    this.child = execa('ip', ['netns', 'exec', lab.ns.router, process.execPath, findMwanCli(), '--run-dir', lab.runDir, 'watch', '--config', config, ...extra], { ...STREAM, env });
    createInterface({ input: this.child.stdout }).on('line', (text) => this.lines.push({ at: Date.now(), text }));
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = this.child.then((result) => result.exitCode ?? -1);
  }

  /** The first line (after `after`) matching `pattern`. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000, after = 0): Promise<Line> {
    return pollUntil(async () => {
      const line = this.lines.find((l) => l.at >= after && pattern.test(l.text));
      if (!line && this.child.exitCode !== null) throw new Error(`mwan watch exited (${this.child.exitCode}): ${this.stderr}\n${this.text}`);
      return line;
    }, `mwan watch printing ${pattern}\n${this.text}\n${this.stderr}`, timeoutMs, 20);
  }

  get text(): string {
    return this.lines.map((l) => l.text).join('\n');
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && !this.child.killed) this.child.kill('SIGKILL');
    await this.exited;
  }
}
