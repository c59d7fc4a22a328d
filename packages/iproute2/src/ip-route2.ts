import { MwanError, runtimeError } from '@mwan/core';
import type { InterfaceFacts } from '@mwan/core';
import { interfaceFacts, type KernelInterface } from './kernel-interfaces.js';
import { routeTable, type KernelRoute } from './kernel-routes.js';
import type { KernelRule } from './kernel-rules.js';
import { commandLine, type Runner } from './runner.js';

/** What the kernel's routing side has now: every interface's facts, and both families' rules and routes. */
export interface KernelState {
  interfaces: Map<string, InterfaceFacts>;
  rules: KernelRule[];
  routes: KernelRoute[];
}

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

  /** Every interface's flags and addresses, and the main table's default routes of both families: what each link can do now. */
  async interfaces(): Promise<Map<string, InterfaceFacts>> {
    return (await this.state()).interfaces;
  }

  /**
   * Interfaces, rules and routes of both families (IPv6 ones with `family: 'inet6'`: the kernel
   * keeps a list per family, and an IPv6 `default dev X` route says nothing of its family) in two
   * `ip -batch` runs, one per family and at the same time, instead of one run per list: an apply
   * or a drift check reads them all, and each process a daemon starts costs it more than the
   * reading. `link show` lists every interface (`addr show` with a family only those
   * with an address of it).
   */
  async state(): Promise<KernelState> {
    const [[links, addrs4, routes4, rules4], [addrs6, routes6, rules6]] = await Promise.all([
      this.batchJson(['-4', '-N', '-json'], ['link show', 'addr show', 'route show table all', 'rule show']),
      this.batchJson(['-6', '-N', '-json'], ['addr show', 'route show table all', 'rule show']),
    ]) as [[KernelInterface[], KernelInterface[], KernelRoute[], KernelRule[]], [KernelInterface[], KernelRoute[], KernelRule[]]];
    const addresses = new Map<string, NonNullable<KernelInterface['addr_info']>>();
    for (const iface of [...addrs4, ...addrs6]) addresses.set(iface.ifname, [...(addresses.get(iface.ifname) ?? []), ...(iface.addr_info ?? [])]);
    const withAddresses = links.map((link) => ({ ...link, addr_info: addresses.get(link.ifname) ?? [] }));
    const routes6Tagged = routes6.map((route) => ({ ...route, family: 'inet6' as const }));
    const mainDefaults = (routes: readonly KernelRoute[]) => routes.filter((r) => r.dst === 'default' && routeTable(r) === '254');
    return {
      interfaces: interfaceFacts(withAddresses, mainDefaults(routes4), mainDefaults(routes6)),
      rules: [...rules4, ...rules6.map((rule) => ({ ...rule, family: 'inet6' as const }))],
      routes: [...routes4, ...routes6Tagged],
    };
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

  /** One `ip OPTIONS -batch -` of show commands: their JSON arrays, one line each, in order. */
  private async batchJson(options: readonly string[], commands: readonly string[]): Promise<unknown[][]> {
    const args = [...options, '-batch', '-'];
    const { stdout } = await this.runner.run('ip', args, { input: commands.map((c) => `${c}\n`).join('') });
    try {
      const lines = stdout.split('\n').filter((line) => line.trim());
      if (lines.length !== commands.length) throw new Error(`${lines.length} results for ${commands.length} commands`);
      return lines.map((line) => {
        const data = JSON.parse(line) as unknown;
        if (!Array.isArray(data)) throw new Error('not a JSON array');
        return data as unknown[];
      });
    } catch (error) {
      throw runtimeError(`cannot read the output of ip ${args.join(' ')} (${commands.join('; ')}): ${(error as Error).message}`, error);
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
