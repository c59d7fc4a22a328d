import { Command } from 'commander';
import { globalOptions, type CliContext } from '../context.js';
import { ConfirmEngine } from '@mwan/engine';

/**
 * Not for people: the detached process `apply --confirm` starts. It waits for the deadline in
 * confirm.json and reverts unless `mwan confirm` removed the file first. Its output goes to
 * confirm.log in the run dir; a revert that could not restore everything exits 1.
 */
export function confirmTimerCommand(ctx: CliContext): Command {
  return new Command('confirm-timer')
    .description('wait for the deadline of an apply --confirm and revert unless confirmed (started by apply)')
    .requiredOption('--token <token>', 'the pending change to watch')
    .action(async (options: { token: string }, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      const log = (line: string) => ctx.io.out(`${new Date().toISOString()} pid ${process.pid}: ${line}\n`);
      log(`waiting for "mwan confirm" (${options.token})`);
      const result = await ctx.container.resolve(ConfirmEngine).runTimer(globals.runDir, options.token);
      if (result.outcome === 'confirmed') {
        log('confirmed, or taken over by a later apply --confirm; nothing reverted');
        return;
      }
      const deleted = Object.values(result.report.conntrackDeleted).reduce((a, b) => a + b, 0);
      if (result.report.problems.length) {
        for (const problem of result.report.problems) log(`revert: ${problem}`);
        log('not confirmed by the deadline; the revert is incomplete: run "mwan apply" or "mwan down"');
        process.exitCode = 1;
        return;
      }
      log(`not confirmed by ${result.report.deadline}: reverted to the state before apply --confirm${deleted ? ` (${deleted} conntrack entries of moved links deleted)` : ''}`);
    });
}
