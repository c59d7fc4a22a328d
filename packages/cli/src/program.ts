import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_CONFIG_PATH } from '@mwan/core';
import { applyCommand } from './commands/apply.js';
import { checkCommand } from './commands/check.js';
import { confirmCommand } from './commands/confirm.js';
import { confirmTimerCommand } from './commands/confirm-timer.js';
import { downCommand } from './commands/down.js';
import { metricsCommand } from './commands/metrics.js';
import { renderCommand } from './commands/render.js';
import { statusCommand } from './commands/status.js';
import { strategiesCommand } from './commands/strategies.js';
import { traceCommand } from './commands/trace.js';
import { useCommand } from './commands/use.js';
import { watchCommand } from './commands/watch.js';
import type { CliContext } from './context.js';
import { DEFAULT_RUN_DIR } from '@mwan/engine';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function createProgram(ctx: CliContext): Command {
  const program = new Command('mwan')
    .description('Connection-level load balancing over several uplinks, on nftables.')
    .version(version, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_PATH)
    .option('--run-dir <dir>', `directory of state.json and the lock (env MWAN_RUN_DIR, default ${DEFAULT_RUN_DIR})`)
    .option('--json', 'print data as JSON (apply, render, check, down, status, strategies, metrics, trace)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => ctx.io.out(text), writeErr: (text) => ctx.io.err(text) })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run mwan --help for usage)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 runtime failure (nothing half-applied), 2 bad config or usage.\nSee docs/cli.md.');
  for (const factory of [applyCommand, confirmCommand, renderCommand, checkCommand, downCommand, statusCommand, strategiesCommand, watchCommand, metricsCommand, traceCommand, useCommand]) {
    const command = factory(ctx);
    // Commands built apart from the program do not inherit its output and exit settings by themselves.
    command.copyInheritedSettings(program);
    program.addCommand(command);
  }
  // Started by `apply --confirm`, not by people: kept out of the help.
  program.addCommand(confirmTimerCommand(ctx).copyInheritedSettings(program), { hidden: true });
  return program;
}
