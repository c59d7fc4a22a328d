import type { InjectionToken } from 'tsyringe';
import { runtimeError } from '@mwan/core';

export interface RunOptions {
  /** Text written to the command's stdin (`nft -f -`). */
  input?: string;
  /** Throw a runtime MwanError on a non-zero exit (default true). */
  reject?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The one door to the system: every external command goes through here, as an argument array. */
export interface Runner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export const RUNNER: InjectionToken<Runner> = Symbol.for('mwan.Runner');

/** A command as a person would type it; for messages and transcripts, never for execution. */
export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args].map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${part.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The error a rejecting run raises: the command and the first line the tool printed about it. */
export function commandFailed(file: string, args: readonly string[], result: RunResult): Error {
  const detail = firstLines(result.stderr || result.stdout);
  return runtimeError(`${commandLine(file, args)} failed (exit ${result.exitCode})${detail ? `: ${detail}` : ''}`);
}

function firstLines(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' | ');
}
