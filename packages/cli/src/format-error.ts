import { CommanderError } from 'commander';
import { exitCodeFor, MwanError } from '@mwan/core';
import type { CliIo } from './context.js';
import { ExitCode } from './exit-code.js';

/** Commander has already printed its own message for these; only the exit code is left to set. */
const COMMANDER_OK = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * The one place errors become output: one line per problem on stderr, and the exit code
 * (2 for what the user can fix: config, usage, strategy; 1 for runtime failures).
 */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) return COMMANDER_OK.has(error.code) ? 0 : 2;
  if (error instanceof ExitCode) return error.code;
  if (error instanceof MwanError) {
    for (const problem of error.problems) {
      for (const line of problem.split('\n')) io.err(`mwan: ${line}\n`);
    }
    return exitCodeFor(error);
  }
  io.err(`mwan: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
  return 1;
}
