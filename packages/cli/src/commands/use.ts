import { constants } from 'node:os';
import { Command } from 'commander';
import { execa } from 'execa';
import { activeLinks, buildModel, errorMessage, loadConfigFile, MwanError, NFT_FAMILY, NFT_TABLE, runtimeError } from '@mwan/core';
import { RUNNER, type Runner } from '@mwan/iproute2';
import { globalOptions, type CliContext } from '../context.js';
import { readState } from '@mwan/engine';
import { ExitCode } from '../exit-code.js';
import { UseCgroup } from '../use/cgroup.js';
import { USE_CHAIN_SPEC, useChain, useRule } from '../use/use-rule.js';
import { handleFromEcho } from '../trace/trace-rule.js';
import { readWatchHealth } from './status-health.js';

const ALL_BITS = 0xffffffff;

export function useCommand(ctx: CliContext): Command {
  return new Command('use')
    .summary('run a command with all of its connections through one link')
    .usage('[options] LINK -- CMD [ARGS...]')
    .description(
      'Runs CMD in a cgroup of its own and adds a rule to the route-type output chain of table inet mwan that gives '
      + 'every packet of that cgroup\'s sockets the link\'s mark (socket cgroupv2), so the kernel routes them through '
      + 'the link and NAT gives them its address. Works for any program, static binaries included. A link that is '
      + 'down or not taking new connections (a backup tier) is used too, with a warning. Exits with CMD\'s exit code '
      + '(128 + N when a signal N ended it); the rule and the cgroup are removed afterwards. Put -- before CMD when it '
      + 'has options of its own. See docs/cli.md.',
    )
    .argument('<link>', 'a link of the last apply')
    .argument('<command...>', 'the command and its arguments')
    .action(async (link: string, commandLine: string[], _options: unknown, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      throw new ExitCode(await use(ctx, globals.runDir, link, commandLine));
    });
}

async function use(ctx: CliContext, runDir: string, linkName: string, commandLine: readonly string[]): Promise<number> {
  const runner = ctx.container.resolve<Runner>(RUNNER);
  const state = await readState(runDir);
  if (!state) throw runtimeError(`no state.json in ${runDir}: run mwan apply first (mwan use needs the links' marks and rules)`);
  const link = state.links.find((l) => l.name === linkName);
  if (!link) throw new MwanError('usage', `LINK: "${linkName}" is not a link of the last apply (${state.links.map((l) => l.name).join(', ')})`);
  // Left out of the apply, the link has no rule or route: its mark would take the main table's way.
  if (link.down) throw runtimeError(`link ${link.name} was left out of the last apply: ${link.down.detail} (${link.down.reason}); it has no route to send CMD's connections by`);
  const mask = (state as { markMask?: number }).markMask ?? ALL_BITS;

  const warning = await linkWarning(runDir, state.config, link.name);
  if (warning) ctx.io.err(`mwan: warning: ${warning}; using it anyway\n`);

  const hasOutput = (await runner.run('nft', ['list', 'chain', NFT_FAMILY, NFT_TABLE, 'output'], { reject: false })).exitCode === 0;
  const chain = hasOutput ? 'output' : useChain(process.pid);
  const cgroup = await UseCgroup.create(process.pid);
  let ownChain = false;
  let handle: number | undefined;
  const cleanup: string[] = [];
  try {
    if (!hasOutput) {
      // A ruleset without the router's-traffic chain: a route-type output chain of this run's own.
      const made = await runner.run('nft', ['add', 'chain', NFT_FAMILY, NFT_TABLE, chain, ...USE_CHAIN_SPEC], { reject: false });
      if (made.exitCode !== 0) {
        throw runtimeError(/No such file or directory/.test(made.stderr) ? `table ${NFT_FAMILY} ${NFT_TABLE} is not loaded (run mwan apply first)` : `cannot add chain ${chain}: ${made.stderr.trim()}`);
      }
      ownChain = true;
    }
    // The cgroup exists before the rule: nft resolves its path to an id when the rule is loaded.
    const rule = useRule({ cgroup: cgroup.nft, mark: link.mark, mask, link: link.name, pid: process.pid });
    const added = await runner.run('nft', ['--echo', '--handle', 'insert', 'rule', NFT_FAMILY, NFT_TABLE, chain, ...rule], { reject: false });
    if (added.exitCode !== 0) throw runtimeError(`cannot add the rule for ${cgroup.dir} to chain ${chain}: ${added.stderr.trim()}`);
    handle = handleFromEcho(added.stdout);

    const [file, ...args] = commandLine;
    // Wrapped: an async function would wait for the subprocess, which is a promise too.
    const { child } = await cgroup.spawnInside(() => ({ child: execa(file, args, { stdio: 'inherit', reject: false }) }));
    // Ctrl-C reaches the command (same process group); this process waits for it and cleans up.
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = () => {};
    const onTerm = forward('SIGTERM');
    const onHup = forward('SIGHUP');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onHup);
    try {
      const result = await child;
      if (result.failed && result.exitCode === undefined && result.signal === undefined) {
        throw runtimeError(`cannot run ${file}: ${result.shortMessage}`);
      }
      if (result.signal) return 128 + (constants.signals[result.signal] ?? 0);
      return result.exitCode ?? 1;
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
    }
  } finally {
    if (handle !== undefined) {
      const removed = await runner.run('nft', ['delete', 'rule', NFT_FAMILY, NFT_TABLE, chain, 'handle', String(handle)], { reject: false });
      if (removed.exitCode !== 0 && !/No such file or directory/.test(removed.stderr)) cleanup.push(`rule ${handle} in chain ${chain}: ${removed.stderr.trim()}`);
    }
    if (ownChain) {
      const removed = await runner.run('nft', ['delete', 'chain', NFT_FAMILY, NFT_TABLE, chain], { reject: false });
      if (removed.exitCode !== 0 && !/No such file or directory/.test(removed.stderr)) cleanup.push(`chain ${chain}: ${removed.stderr.trim()}`);
    }
    await cgroup.remove().catch(async (error: unknown) => {
      const left = await cgroup.members();
      cleanup.push(left.length ? `cgroup ${cgroup.dir} still holds processes ${left.join(', ')} (they no longer use the link)` : `cgroup ${cgroup.dir}: ${errorMessage(error)}`);
    });
    if (cleanup.length) ctx.io.err(`mwan: warning: not removed: ${cleanup.join('; ')}\n`);
  }
}

/**
 * Why the link would not get new connections now: down (a running mwan watch says so), or not in
 * the best tier (watch's active set, or without watch the config's tiers with every link up).
 */
async function linkWarning(runDir: string, configPath: string, name: string): Promise<string | undefined> {
  const health = await readWatchHealth(runDir).catch(() => null);
  if (health?.running) {
    const record = health.links.find((l) => l.name === name);
    if (record?.state === 'down') return `link ${name} is down${record.lastError ? ` (${record.lastError})` : ''}`;
    if (!health.active.includes(name)) return `link ${name} takes no new connections now (tier ${record?.priority ?? '?'}; active: ${health.active.join(', ') || 'none'})`;
    return undefined;
  }
  try {
    const model = buildModel(loadConfigFile(configPath));
    const link = model.links.find((l) => l.name === name);
    const active = activeLinks(model.links, {}) ?? [];
    if (link && !active.includes(name)) return `link ${name} is a backup (tier ${link.priority}; new connections use ${active.join(', ')})`;
  } catch {
    // No readable config: nothing to warn about.
  }
  return undefined;
}
