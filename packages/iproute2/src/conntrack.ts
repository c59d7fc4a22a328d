import { inject, injectable } from 'tsyringe';
import { runtimeError } from '@mwan/core';
import { RUNNER, type Runner } from './runner.js';

/** conntrack(8) by connection mark: the mark says which link a connection was given. */
@injectable()
export class Conntrack {
  constructor(@inject(RUNNER) private readonly runner: Runner) {}

  /** Deletes the entries carrying `mark`; returns how many. None at all is not a failure. */
  async deleteMark(mark: number): Promise<number> {
    const result = await this.runner.run('conntrack', ['-D', '-m', String(mark)], { reject: false });
    const count = flowCount(result.stderr, 'deleted');
    // conntrack exits 1 when nothing matched; it then still prints "0 flow entries".
    if (result.exitCode === 0 || (result.exitCode === 1 && count === 0)) return count ?? 0;
    throw runtimeError(`conntrack -D -m ${mark} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  }

  /** How many entries carry `mark`, or undefined when conntrack cannot tell (not installed, no permission). */
  async countMark(mark: number): Promise<number | undefined> {
    const result = await this.runner.run('conntrack', ['-L', '-m', String(mark)], { reject: false });
    if (result.exitCode !== 0) return undefined;
    return flowCount(result.stderr, 'shown') ?? result.stdout.split('\n').filter((l) => l.trim()).length;
  }
}

function flowCount(stderr: string, verb: string): number | undefined {
  const match = new RegExp(`(\\d+) flow entr(?:y|ies) (?:has|have) been ${verb}`).exec(stderr);
  return match ? Number(match[1]) : undefined;
}
