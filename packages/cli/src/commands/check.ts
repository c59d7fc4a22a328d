import { Command } from 'commander';
import { NftTable } from '@mwan/iproute2';
import { globalOptions, type CliContext } from '../context.js';
import { loadDesired } from '@mwan/engine';

export function checkCommand(ctx: CliContext): Command {
  return new Command('check')
    .summary('validate the config and check the ruleset with nft -c')
    .description('Validates the config and the strategy options, renders, and asks nft -c whether the kernel would accept the ruleset (needs CAP_NET_ADMIN). Changes nothing.')
    .option('--strategy <name>', 'use this strategy instead of the config\'s')
    .action(async (options: { strategy?: string }, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      const desired = await loadDesired(globals.config, { strategy: options.strategy });
      await ctx.container.resolve(NftTable).check(desired.rendered.nft);
      const summary = { config: desired.configPath, links: desired.model.links.length, strategy: desired.model.strategy.name, ok: true };
      ctx.io.out(globals.json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `${summary.config}: ok (${summary.links} link${summary.links === 1 ? '' : 's'}, strategy ${summary.strategy}); nft accepts the ruleset\n`);
    });
}
