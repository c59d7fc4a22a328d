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

  /** Both families' rules; IPv6 ones carry `family: 'inet6'` (the kernel keeps a list per family). */
  async rules(): Promise<KernelRule[]> {
    const [four, six] = await Promise.all([
      this.json<KernelRule[]>(['-N', '-json', 'rule', 'show']),
      this.json<KernelRule[]>(['-6', '-N', '-json', 'rule', 'show']),
    ]);
    return [...four, ...six.map((rule) => ({ ...rule, family: 'inet6' as const }))];
  }

  /**
   * Every table, both families, IPv6 ones with `family: 'inet6'`: a foreign IPv6 route also makes a
   * table someone else's. Read per family: an IPv6 `default dev X` route says nothing of its family.
   */
  async routes(): Promise<KernelRoute[]> {
    const [four, six] = await Promise.all([
      this.json<KernelRoute[]>(['-4', '-N', '-json', 'route', 'show', 'table', 'all']),
      this.json<KernelRoute[]>(['-6', '-N', '-json', 'route', 'show', 'table', 'all']),
    ]);
    return [...four, ...six.map((route) => ({ ...route, family: 'inet6' as const }))];
  }

  /** Every interface's flags and addresses, and the main table's default routes of both families: what each link can do now. */
  async interfaces(): Promise<Map<string, InterfaceFacts>> {
    const [links, defaults, defaults6] = await Promise.all([
      this.json<KernelInterface[]>(['-json', 'addr', 'show']),
      this.json<KernelRoute[]>(['-4', '-json', 'route', 'show', 'table', 'main', 'default']),
      this.json<KernelRoute[]>(['-6', '-json', 'route', 'show', 'table', 'main', 'default']),
    ]);
    return interfaceFacts(links, defaults, defaults6);
  }

  /**
   * Runs the commands in order and stops at the first failure, which it throws naming that
   * command. A batch takes no options per line: neighbours with the same family option
   * (`-6 route ...`) share one `ip -6 -batch -`.
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
        const option = familyOption(group[0]);
        const input = group.map((args) => `${args.slice(option.length).join(' ')}\n`).join('');
        const result = await this.runner.run('ip', [...option, ...(keepGoing ? ['-force'] : []), '-batch', '-'], { input, reject: false });
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

/** `-4`/`-6` in front of a command: it goes into a batch of its family. */
const familyOption = (args: readonly string[]): string[] => (args[0] === '-4' || args[0] === '-6' ? [args[0]] : []);

/** Neighbouring commands with the same family option; one with any other global option runs alone. */
function batches(commands: readonly (readonly string[])[]): (readonly string[])[][] {
  const groups: (readonly string[])[][] = [];
  const key = (args: readonly string[]) => (familyOption(args).length || !args[0]?.startsWith('-') ? familyOption(args).join('') : undefined);
  for (const args of commands) {
    const last = groups.at(-1);
    if (last && key(args) !== undefined && key(args) === key(last[0])) last.push(args);
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
