import { resolve } from 'node:path';
import { socketPath } from '@mwan/engine';
import type { CliContext, GlobalOptions } from '../context.js';
import { ExitCode } from '../exit-code.js';
import { askDaemon } from './control-socket.js';
import type { DaemonCommand } from './control-protocol.js';

export { DAEMON_COMMANDS, type DaemonCommand } from './control-protocol.js';

/**
 * When `mwan watch` runs for this run dir, hands the command line to it and prints its answer
 * (the same lines and exit code as when this process does the work): true. No daemon: false,
 * and the caller does the work itself. The config and run dir go as absolute paths, since the
 * daemon does not share this process's working directory.
 */
export async function throughDaemon(ctx: CliContext, command: DaemonCommand, globals: GlobalOptions): Promise<boolean> {
  if (!ctx.commandLine) return false;
  const argv = [...ctx.commandLine, '--config', resolve(globals.config), '--run-dir', resolve(globals.runDir)];
  const answer = await askDaemon(socketPath(globals.runDir), command, argv);
  if (!answer) return false;
  ctx.io.out(answer.stdout);
  ctx.io.err(answer.stderr);
  if (answer.exitCode !== 0) throw new ExitCode(answer.exitCode);
  return true;
}
