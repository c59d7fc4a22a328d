import { Command } from 'commander';
import { processAlive, ensureDir } from '@mwan/engine';
import { globalOptions, type CliContext } from '../context.js';
import { renderExposition } from '../metrics/exposition.js';
import { readMetricsFile, writeMetricsFile } from '../metrics/metrics-file.js';
import { MetricsSource } from '../metrics/metrics-source.js';
import { readWatchHealth } from './status-health.js';

export function metricsCommand(ctx: CliContext): Command {
  return new Command('metrics')
    .summary('print the Prometheus metrics once (for node_exporter\'s textfile collector)')
    .description(
      'Prints the same text as `mwan watch --metrics` serves at /metrics: per link new connections (nft counters), '
      + 'packets and bytes each way (interface counters), conntrack entries, and, while mwan watch runs, health, '
      + 'RTT, loss and the daemon\'s counters. Counters are carried across table reloads in metrics.json in the run '
      + 'dir (left to mwan watch --metrics while it runs). --json prints the model the text is made from. See docs/cli.md.',
    )
    .action(async (_options: unknown, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      const health = await readWatchHealth(globals.runDir);
      const file = await readMetricsFile(globals.runDir);
      // A running daemon keeps the file; this run only reads its offsets and counters.
      const daemonOwns = file !== null && file.pid !== process.pid && processAlive(file.pid);
      const { snapshot, carry } = await ctx.container.resolve(MetricsSource).read({
        runDir: globals.runDir,
        configPath: globals.config,
        health: health?.running ? health : null,
        daemon: daemonOwns ? file.daemon ?? null : null,
        carry: file?.carry ?? {},
      });
      // Nothing to carry without a table (and no run dir to make on a router never applied).
      if (!daemonOwns && snapshot.tableLoaded) {
        await ensureDir(globals.runDir).then(() => writeMetricsFile(globals.runDir, { version: 1, pid: process.pid, updated: new Date().toISOString(), carry })).catch((error: Error) => {
          ctx.io.err(`mwan: warning: counters are not carried across reloads: ${error.message}\n`);
        });
      }
      ctx.io.out(globals.json ? `${JSON.stringify(snapshot, null, 2)}\n` : renderExposition(snapshot));
    });
}
