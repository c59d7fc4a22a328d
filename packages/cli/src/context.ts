import type { Command } from 'commander';
import type { DependencyContainer } from 'tsyringe';
import { DEFAULT_CONFIG_PATH } from '@mwan/core';
import { resolveRunDir } from '@mwan/engine';

/** Where the CLI writes; tests capture it instead of the process streams. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export interface CliContext {
  container: DependencyContainer;
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /**
   * The command line as typed, in a process that may hand apply, down, confirm and status to a
   * running `mwan watch`. Unset inside the daemon, which carries them out itself.
   */
  commandLine?: readonly string[];
}

export interface GlobalOptions {
  config: string;
  runDir: string;
  json: boolean;
}

/** The options every command shares, wherever on the command line they were given. */
export function globalOptions(command: Command, env: NodeJS.ProcessEnv): GlobalOptions {
  const options = command.optsWithGlobals<{ config?: string; runDir?: string; json?: boolean }>();
  return {
    config: options.config ?? DEFAULT_CONFIG_PATH,
    runDir: resolveRunDir(options.runDir, env),
    json: options.json === true,
  };
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};
