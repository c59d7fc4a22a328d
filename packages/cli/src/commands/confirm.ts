import { Command, Option } from 'commander';
import { throughDaemon } from '../daemon/through-daemon.js';
import { globalOptions, type CliContext } from '../context.js';
import { ConfirmEngine } from '@mwan/engine';
import { DEFAULT_WAIT_SECONDS, parseSeconds } from '../parse-options.js';

export function confirmCommand(ctx: CliContext): Command {
  return new Command('confirm')
    .summary('keep the change made by "mwan apply --confirm SECONDS"')
    .description(
      'Keeps the change of the last "mwan apply --confirm": without this, it is reverted when its time is up (the nft table, the ip rules and routes, sysctls and state.json as they were before it). Fails (exit 1) when no change is waiting.',
    )
    .addOption(new Option('--wait <seconds>', 'how long to wait for another mwan holding the lock').argParser(parseSeconds).default(DEFAULT_WAIT_SECONDS))
    .action(async (options: { wait: number }, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      if (await throughDaemon(ctx, 'confirm', globals)) return;
      const report = await ctx.container.resolve(ConfirmEngine).confirm(globals.runDir, options.wait);
      ctx.io.out(globals.json
        ? `${JSON.stringify({ confirmed: true, ...report }, null, 2)}\n`
        : `confirmed: the change applied by pid ${report.pid} stays (it would have been reverted at ${report.deadline})\n`);
    });
}
