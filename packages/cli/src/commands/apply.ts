import { Command, Option } from 'commander';
import { hex } from '@mwan/core';
import { throughDaemon } from '../daemon/through-daemon.js';
import { globalOptions, type CliContext } from '../context.js';
import { ApplyEngine, type ApplyReport } from '@mwan/engine';
import { DEFAULT_WAIT_SECONDS, parseConfirmSeconds, parseSeconds } from '../parse-options.js';

export function applyCommand(ctx: CliContext): Command {
  return new Command('apply')
    .summary('make the router balance over the configured links')
    .description(
      'Renders the config, reads each link\'s interface (a link whose interface is absent, down, without carrier or IPv4 address, without a reachable or learnable gateway, or without its static snat address is left out, one line each, not an error), then under the lock: checks the ruleset with nft -c before the first route or rule it adds (a change of the table alone is checked by its load, one transaction that changes nothing when refused), adds routes and rules, swaps table inet mwan in one transaction, removes stale rules and routes, deletes conntrack entries of links that are gone, sets sysctls and writes state.json. Any failure restores the previous state (exit 1). With mwan watch running, the daemon does this over its socket, with the links its health checks find up.',
    )
    .option('--strategy <name>', 'use this strategy instead of the config\'s (built-in name, package or path)')
    .option('--dry-run', 'print what would change and change nothing')
    .option('--keep-connections', 'do not delete conntrack entries of links that were removed')
    .addOption(new Option('--wait <seconds>', 'how long to wait for another mwan holding the lock').argParser(parseSeconds).default(DEFAULT_WAIT_SECONDS))
    .addOption(new Option('--confirm <seconds>', 'revert to the state before unless "mwan confirm" runs within this time').argParser(parseConfirmSeconds).conflicts('dryRun'))
    .action(async (options: { strategy?: string; dryRun?: boolean; keepConnections?: boolean; wait: number; confirm?: number }, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      if (await throughDaemon(ctx, 'apply', globals)) return;
      const report = await ctx.container.resolve(ApplyEngine).apply({
        configPath: globals.config,
        runDir: globals.runDir,
        strategy: options.strategy,
        dryRun: options.dryRun === true,
        keepConnections: options.keepConnections === true,
        waitSeconds: options.wait,
        ...(options.confirm !== undefined ? { confirmSeconds: options.confirm } : {}),
      });
      for (const note of report.notes) ctx.io.err(`mwan: ${note}\n`);
      ctx.io.out(globals.json ? `${JSON.stringify(report, null, 2)}\n` : describe(report));
    });
}

function describe(report: ApplyReport): string {
  // Every link up to a screenful; beyond that the list is in `status` and --json.
  const shown = report.links.length > 8 ? report.links.slice(0, 6) : report.links;
  const links = shown.map((l) => `${l.name} (mark ${hex(l.mark)}, table ${l.table})`).join(', ')
    + (shown.length < report.links.length ? ` and ${report.links.length - shown.length} more` : '');
  // One line per link left out, whose interface cannot carry traffic now: a link down, not an error.
  const leftOut = report.down.map((d) => `  left out: ${d.name}: ${d.detail} (${d.reason})\n`).join('');
  if (report.dryRun) {
    const head = `dry run: ${report.links.length} link${report.links.length === 1 ? '' : 's'} with strategy ${report.strategy}: ${links}`;
    const body = report.actions.length ? report.actions.map((a) => `  would run: ${a}`).join('\n') : '  nothing to change';
    return `${head}\n${leftOut}${body}\n`;
  }
  const deleted = Object.values(report.conntrackDeleted).reduce((a, b) => a + b, 0);
  const parts = [
    report.actions.length ? `${report.actions.length} change${report.actions.length === 1 ? '' : 's'}` : 'nothing to change',
    report.nftLoaded ? 'table inet mwan loaded' : 'table inet mwan unchanged',
    ...(Object.keys(report.conntrackDeleted).length ? [`${deleted} conntrack entr${deleted === 1 ? 'y' : 'ies'} of old links deleted`] : []),
  ];
  const confirm = report.confirm ? `  run "mwan confirm" within ${report.confirm.seconds} s (by ${report.confirm.deadline}), or this is reverted\n` : '';
  return `applied ${report.links.length} link${report.links.length === 1 ? '' : 's'} with strategy ${report.strategy}: ${links}\n${leftOut}  ${parts.join('; ')}\n${confirm}`;
}
