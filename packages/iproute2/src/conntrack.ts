import { runtimeError } from '@mwan/core';
import type { Runner } from './runner.js';

/** conntrack(8) by connection mark: the mark says which link a connection was given. */
export class Conntrack {
  constructor(private readonly runner: Runner) {}

  /**
   * Deletes the entries carrying `mark` (in the bits of `mask`); returns how many (at least). None at all is not a
   * failure, and neither is an entry that ended by itself meanwhile.
   */
  async deleteMark(mark: number, mask?: number, family?: 'ipv4' | 'ipv6'): Promise<number> {
    let deleted = 0;
    // Without a family conntrack deletes both; with one (a link's IPv6 side failed alone), only it.
    const only = family ? ['-f', family] : [];
    for (let attempt = 1; ; attempt++) {
      const result = await this.runner.run('conntrack', ['-D', ...only, '-m', markArg(mark, mask)], { reject: false });
      const count = flowCount(result.stderr, 'deleted');
      // conntrack exits 1 when nothing matched; it then still prints "0 flow entries".
      if (result.exitCode === 0 || (result.exitCode === 1 && count === 0)) return deleted + (count ?? 0);
      // Under traffic an entry can end between conntrack's listing and its delete; conntrack
      // then stops at it, leaving the rest. That entry is gone, as asked: go again for the rest.
      if (VANISHED.test(result.stderr) && attempt < DELETE_ATTEMPTS) {
        deleted += count ?? 0;
        continue;
      }
      throw runtimeError(`conntrack -D ${only.map((o) => `${o} `).join('')}-m ${markArg(mark, mask)} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    }
  }

  /** How many entries carry `mark`, or undefined when conntrack cannot tell (not installed, no permission). */
  async countMark(mark: number, mask?: number): Promise<number | undefined> {
    const result = await this.runner.run('conntrack', ['-L', '-m', markArg(mark, mask)], { reject: false });
    if (result.exitCode !== 0) return undefined;
    return flowCount(result.stderr, 'shown') ?? result.stdout.split('\n').filter((l) => l.trim()).length;
  }
}

/** `MARK` or `MARK/MASK`: with a mask, only mwan's bits of the ct mark are compared. */
const markArg = (mark: number, mask?: number) => (mask === undefined || mask === 0xffffffff ? String(mark) : `${mark}/${mask}`);

const VANISHED = /such conntrack doesn't exist/;
const DELETE_ATTEMPTS = 10;

function flowCount(stderr: string, verb: string): number | undefined {
  const match = new RegExp(`(\\d+) flow entr(?:y|ies) (?:has|have) been ${verb}`).exec(stderr);
  return match ? Number(match[1]) : undefined;
}
