import { execa } from 'execa';
import { commandFailed, type Runner, type RunOptions, type RunResult } from './runner.js';

/** No command mwan runs should take long; a hung one must not hold the lock forever. */
const TIMEOUT_MS = 60_000;

export class ExecaRunner implements Runner {
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const result = await execa(file, args, {
      ...(options.input !== undefined ? { input: options.input } : {}),
      reject: false,
      stripFinalNewline: false,
      timeout: TIMEOUT_MS,
      // Messages are parsed and compared; keep them in one language.
      env: { LC_ALL: 'C' },
    });
    const out: RunResult = {
      // A command that could not start (ENOENT) has no exit code; 127 is what a shell would say.
      exitCode: typeof result.exitCode === 'number' ? result.exitCode : 127,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? '') || (result.failed && result.exitCode === undefined ? String(result.shortMessage ?? '') : ''),
    };
    if (out.exitCode !== 0 && options.reject !== false) throw commandFailed(file, args, out);
    return out;
  }
}
