import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { createContainer } from './container.js';
import { processIo, type CliIo } from './context.js';
import { reportError } from './format-error.js';
import { createProgram } from './program.js';

export interface MainOptions {
  container?: DependencyContainer;
  io?: CliIo;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs one mwan command line (without `node mwan`) and returns its exit code, which it also sets
 * as process.exitCode. Nothing in here calls process.exit(): output is flushed and tests can call it.
 */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const code = await runCommandLine(argv, { ...options, throughDaemon: true });
  process.exitCode = code;
  return code;
}

/**
 * One command line to its exit code, leaving process.exitCode alone: the daemon runs the
 * commands it is asked for with this (`throughDaemon` false: it does the work itself).
 */
export async function runCommandLine(argv: readonly string[], options: MainOptions & { throughDaemon: boolean }): Promise<number> {
  const io = options.io ?? processIo;
  const program = createProgram({
    container: options.container ?? createContainer(), io, env: options.env ?? process.env, ...(options.throughDaemon ? { commandLine: [...argv] } : {}),
  });
  let code = 0;
  try {
    if (argv.length === 0) {
      io.err(program.helpInformation());
      code = 2;
    } else await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    code = reportError(error, io);
  }
  return code;
}
