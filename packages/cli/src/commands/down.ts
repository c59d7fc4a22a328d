import { Command, Option } from 'commander';
import { throughDaemon } from '../daemon/through-daemon.js';
import { globalOptions, type CliContext } from '../context.js';
import { DownEngine } from '@mwan/engine';
import { DEFAULT_WAIT_SECONDS, parseSeconds } from '../parse-options.js';

export function downCommand(ctx: CliContext): Command {
  return new Command('down')
    .summary('remove everything mwan created')
    .description(
      'Deletes table inet mwan, the ip rules and routes stamped proto 109, puts back the sysctls mwan changed (when they still hold mwan\'s value) and removes state.json. Needs no config. Other tables, rules and routes are never touched.',
    )
    .addOption(new Option('--wait <seconds>', 'how long to wait for another mwan holding the lock').argParser(parseSeconds).default(DEFAULT_WAIT_SECONDS))
    .action(async (options: { wait: number }, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      if (await throughDaemon(ctx, 'down', globals)) return;
      const report = await ctx.container.resolve(DownEngine).down({ runDir: globals.runDir, waitSeconds: options.wait });
      for (const kept of report.kept) ctx.io.err(`mwan: left ${kept}: changed since mwan set it\n`);
      if (globals.json) ctx.io.out(`${JSON.stringify(report, null, 2)}\n`);
      else ctx.io.out(report.actions.length ? `removed: ${report.actions.length} item${report.actions.length === 1 ? '' : 's'}\n${report.actions.map((a) => `  ${a}\n`).join('')}` : 'nothing to remove\n');
    });
}
