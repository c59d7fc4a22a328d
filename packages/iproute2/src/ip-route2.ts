import { MwanError, runtimeError } from '@mwan/core';
import type { InterfaceFacts } from '@mwan/core';
import { interfaceFacts, type KernelInterface } from './kernel-interfaces.js';
import type { KernelRoute } from './kernel-routes.js';
import type { KernelRule } from './kernel-rules.js';
import { commandLine, type Runner } from './runner.js';

/** A command of a batch that failed, and what ip said about it. */
export interface IpFailure {
  args: readonly string[];
  message: string;
}

/**
 * Reads routing state from the kernel as it is, and changes it. Changes of one step go through
 * one `ip -batch -` process: 64 links are 130 commands, and a process each would dominate an apply.
 */
export class IpRoute2 {
  constructor(private readonly runner: Runner) {}

  async rules(): Promise<KernelRule[]> {
    return this.json<KernelRule[]>(['-N', '-json', 'rule', 'show']);
  }

  /** Every table, both families: a foreign IPv6 route also makes a table someone else's. */
  async routes(): Promise<KernelRoute[]> {
    return this.json<KernelRoute[]>(['-N', '-json', 'route', 'show', 'table', 'all']);
  }

  /** Every interface's flags and addresses, and the main table's IPv4 default routes: what each link can do now. */
  async interfaces(): Promise<Map<string, InterfaceFacts>> {
    const [links, defaults] = await Promise.all([
      this.json<KernelInterface[]>(['-json', 'addr', 'show']),
      this.json<KernelRoute[]>(['-4', '-json', 'route', 'show', 'table', 'main', 'default']),
    ]);
    return interfaceFacts(links, defaults);
  }

  /**
   * Runs the commands in order and stops at the first failure, which it throws naming that
   * command. Commands with their own global options (`-6 route ...`) cannot be batched and run alone.
   */
  async ipAll(commands: readonly (readonly string[])[]): Promise<void> {
    const failures = await this.execute(commands, false);
    if (failures.length) throw runtimeError(`${commandLine('ip', failures[0].args)} failed: ${failures[0].message}`);
  }

  /** Runs every command even when some fail; returns the failures. */
  async ipEach(commands: readonly (readonly string[])[]): Promise<IpFailure[]> {
    return this.execute(commands, true);
  }

  private async execute(commands: readonly (readonly string[])[], keepGoing: boolean): Promise<IpFailure[]> {
    const failures: IpFailure[] = [];
    for (const group of batches(commands)) {
      if (group.length === 1) {
        try {
          await this.runner.run('ip', group[0]);
        } catch (error) {
          failures.push({ args: group[0], message: error instanceof MwanError ? error.problems.join('; ').replace(/^.*? failed \(exit \d+\): /, '') : String(error) });
        }
      } else {
        const input = group.map((args) => `${args.join(' ')}\n`).join('');
        const result = await this.runner.run('ip', [...(keepGoing ? ['-force'] : []), '-batch', '-'], { input, reject: false });
        if (result.exitCode !== 0) failures.push(...batchFailures(group, result.stderr));
      }
      if (failures.length && !keepGoing) break;
    }
    return failures;
  }

  private async json<T>(args: string[]): Promise<T> {
    const { stdout } = await this.runner.run('ip', args);
    try {
      const data = JSON.parse(stdout.trim() || '[]') as unknown;
      if (!Array.isArray(data)) throw new Error('not a JSON array');
      return data as T;
    } catch (error) {
      throw runtimeError(`cannot read the output of ip ${args.join(' ')}: ${(error as Error).message}`, error);
    }
  }
}

function batches(commands: readonly (readonly string[])[]): (readonly string[])[][] {
  const groups: (readonly string[])[][] = [];
  for (const args of commands) {
    const alone = args[0]?.startsWith('-');
    const last = groups.at(-1);
    if (!alone && last && !last[0][0].startsWith('-')) last.push(args);
    else groups.push([args]);
  }
  return groups;
}

/** `ip -batch` prints each error, then `Command failed -:N` naming the line it came from. */
function batchFailures(group: readonly (readonly string[])[], stderr: string): IpFailure[] {
  const failures: IpFailure[] = [];
  let message: string[] = [];
  for (const line of stderr.split('\n')) {
    const failed = /^Command failed -:(\d+)$/.exec(line.trim());
    if (!failed) {
      if (line.trim()) message.push(line.trim());
      continue;
    }
    const args = group[Number(failed[1]) - 1];
    if (args) failures.push({ args, message: message.join(' ') || 'failed' });
    message = [];
  }
  // Nothing named a line: then no command of the batch can be trusted to have run.
  if (!failures.length) return group.map((args) => ({ args, message: message.join(' ') || 'ip -batch failed' }));
  return failures;
}
