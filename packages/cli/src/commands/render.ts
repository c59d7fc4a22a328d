import { Command } from 'commander';
import { renderIpCommands } from '@mwan/core';
import { globalOptions, type CliContext } from '../context.js';
import { loadDesired, marksOf, readState } from '@mwan/engine';

export function renderCommand(ctx: CliContext): Command {
  return new Command('render')
    .summary('print the nft ruleset and the ip commands; change nothing')
    .description(
      'Prints table inet mwan as nft -f would load it, then the ip route/rule and sysctl commands apply would run on an empty router. Needs no privileges. Marks of links already applied (state.json) are kept.',
    )
    .option('--strategy <name>', 'use this strategy instead of the config\'s')
    .action(async (options: { strategy?: string }, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      const previous = await readState(globals.runDir).catch(() => null);
      const { rendered } = await loadDesired(globals.config, { strategy: options.strategy, previousMarks: marksOf(previous) });
      if (globals.json) {
        const { nft, routes, rules, sysctls, active, policy } = rendered;
        ctx.io.out(`${JSON.stringify({ nft, routes, rules, sysctls, active, policy }, null, 2)}\n`);
        return;
      }
      ctx.io.out(`${rendered.nft}\n${renderIpCommands(rendered)}`);
    });
}
