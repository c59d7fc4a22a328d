// The repository is all a fresh clone has: nothing it runs, tests, benchmarks or tells a user to
// do may name a file outside it. Tracked text files are searched for paths that leave the
// checkout; the benchmark's baseline script is the repository's own.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { REPO, SEED_SCRIPT } from '../../bench/src/paths.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** Paths that leave the checkout: a sibling folder, or this machine's work directory. */
const OUTSIDE = [new RegExp(['\\.\\.', 'shared'].join('/')), new RegExp(['shared', 'reference'].join('/')), new RegExp(['', 'work', ''].join('/'))];

function outsideReferences(text: string): string[] {
  return text.split('\n').filter((line) => OUTSIDE.some((re) => re.test(line)));
}

describe('the repository is self-contained', () => {
  it('finds a path outside the checkout when there is one', () => {
    const up = '..';
    const sibling = 'shared';
    expect(outsideReferences(`run ${[up, sibling, 'reference', 'x.sh'].join('/')}\nok`)).toHaveLength(1);
    expect(outsideReferences('bench/baseline/article-recipe.sh')).toEqual([]);
  });

  it('names no file outside the repository in any tracked text file', async () => {
    const { stdout } = await execa('git', ['ls-files', '-z'], { cwd: repo });
    const files = stdout.split('\0').filter((f) => f && !f.endsWith('package-lock.json'));
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const file of files) {
      const path = join(repo, file);
      if (statSync(path).size > 2_000_000) continue;
      const text = readFileSync(path, 'utf8');
      if (text.includes('\0')) continue;
      for (const line of outsideReferences(text)) found.push(`${file}: ${line.trim()}`);
    }
    expect(found).toEqual([]);
  });

  it('keeps the benchmark baseline inside the repository, executable', () => {
    expect(SEED_SCRIPT.startsWith(REPO)).toBe(true);
    expect(() => accessSync(SEED_SCRIPT, constants.X_OK)).not.toThrow();
  });
});
