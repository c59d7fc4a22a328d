import { Command, Option } from 'commander';
import { hex } from '@mwan/core';
import { throughDaemon } from '../daemon/through-daemon.js';
import { globalOptions, type CliContext } from '../context.js';
import { StatusEngine, type StatusReport } from '@mwan/engine';
import { describeHealth, readWatchHealth } from './status-health.js';
import { parseInterval, statusWatch } from './status-watch.js';

export function statusCommand(ctx: CliContext): Command {
  return new Command('status')
    .summary('show each link: state, mark, table, rule, route, connections, packets')
    .description(
      'Reads the kernel (not only state.json): whether table inet mwan exists and, per link, whether its interface can carry traffic (up, or down with the reason: absent, admin-down, no-carrier, no-address, no-gateway, snat-address-missing), its mark and table, whether its ip rule and route are present (and, for a link with IPv6, its ip -6 rule and route: the IPV6 column), conntrack entries carrying its mark, and the packets its nft counter has seen (new connections given to it). --json prints the same as data.',
    )
    .option('--watch', 'a live view, redrawn every --interval: per link state and reason, share of new connections, connections, bit rates, RTT, loss (q or Ctrl-C ends it; plain lines without a terminal, one JSON object per refresh with --json)')
    .addOption(new Option('--interval <seconds>', 'refresh interval of --watch').argParser(parseInterval).default(1))
    .action(async (options: { watch?: boolean; interval: number }, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      if (options.watch) {
        await statusWatch(ctx, globals, options.interval);
        return;
      }
      if (await throughDaemon(ctx, 'status', globals)) return;
      const report = await ctx.container.resolve(StatusEngine).status({ runDir: globals.runDir, configPath: globals.config });
      // health.json of `mwan watch`, when it ran here (null otherwise).
      const health = await readWatchHealth(globals.runDir);
      ctx.io.out(globals.json ? `${JSON.stringify(health ? { ...report, health } : report, null, 2)}\n` : describe(report) + describeHealth(health));
    });
}

function describe(report: StatusReport): string {
  const head = report.applied
    ? `table inet mwan: applied${report.appliedAt ? ` ${report.appliedAt}` : ''}${report.strategy ? `, strategy ${report.strategy}` : ''}${report.config ? `, config ${report.config}` : ''}`
    : `table inet mwan: not applied${report.source === 'config' && report.links.length ? ' (links below are from the config)' : ''}`;
  // IPV6: the link's IPv6 rule and route ("yes"), what is missing, "left out" by the last apply, or "-" (IPv4 only).
  const six = report.links.some((l) => l.ipv6State !== undefined);
  const ipv6Cell = (l: StatusReport['links'][number]) => {
    if (!l.ipv6State) return '-';
    if (l.ipv6?.down) return `left out (${l.ipv6.down.reason})`;
    const missing = [...(l.ipv6State.rule ? [] : ['rule']), ...(l.ipv6State.route ? [] : ['route'])];
    return missing.length ? `no ${missing.join(', ')}` : 'yes';
  };
  const rows = [['LINK', 'INTERFACE', 'STATE', 'MARK', 'TABLE', 'WEIGHT', 'RULE', 'ROUTE', ...(six ? ['IPV6'] : []), 'CONNS', 'PACKETS'],
    ...report.links.map((l) => [
      l.name, l.interface, l.state === 'up' ? 'up' : `down (${l.reason})`, hex(l.mark), String(l.table), String(l.weight),
      l.rule ? 'yes' : 'no', l.route ? 'yes' : 'no', ...(six ? [ipv6Cell(l)] : []), l.connections === null ? '-' : String(l.connections), l.packets === null ? '-' : String(l.packets),
    ])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
  const notes = [
    ...(report.interrupted ? ['an apply was interrupted; run "mwan apply" to repair'] : []),
    ...(report.applied && !report.links.length ? ['no state.json in the run dir and no readable config: the links cannot be listed (give --config or the --run-dir of the apply)'] : []),
    ...(report.applied && report.links.length && !report.ok ? ['some rules or routes are missing; run "mwan apply" to repair'] : []),
    ...report.links.filter((l) => l.state === 'down').map((l) => `${l.name}: ${l.detail}${l.down ? '; left out of the last apply' : ''}`),
    ...report.links.filter((l) => l.ipv6?.down).map((l) => `${l.name}: IPv6 left out of the last apply: ${l.ipv6?.down?.detail}`),
    ...(report.source === 'state' ? report.links.filter((l) => l.down && l.state === 'up').map((l) => `${l.name}: its interface can carry traffic again; "mwan apply" takes it back`) : []),
  ];
  return `${head}\n${report.links.length ? `${table}\n` : ''}${notes.map((n) => `note: ${n}\n`).join('')}`;
}
