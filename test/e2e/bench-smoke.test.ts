// `npm run bench -- --quick` in a test: tiny runs of every benchmark, written to a temporary
// directory. It checks that each benchmark produced finite numbers and that none of the bench's
// network namespaces outlive it; the numbers themselves are never asserted (timing is not a test).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { listNamespaces } from '@mwan/lab';
import { BENCHMARKS, runBench, type BenchOutcome } from '../../bench/src/index.js';

const root = typeof process.getuid === 'function' && process.getuid() === 0;

(root ? describe : describe.skip)('bench --quick', () => {
  it('runs every benchmark, writes RESULTS.md and plots, and removes its namespaces', async () => {
    let outcome: BenchOutcome | undefined;
    try {
      outcome = await runBench({ quick: true, log: () => {} });
      for (const name of Object.keys(BENCHMARKS)) {
        const section = outcome.sections[name];
        expect(section).toBeDefined();
        const numbers = Object.entries(section.numbers);
        expect(numbers.length).toBeGreaterThan(0);
        for (const [what, value] of numbers) expect([name, what, Number.isFinite(value)]).toEqual([name, what, true]);
      }
      const results = readFileSync(outcome.resultsPath, 'utf8');
      for (const section of Object.values(outcome.sections)) {
        expect(results).toContain(`## ${section.title}`);
        for (const plot of section.plots) expect(readFileSync(join(outcome.out, 'plots', plot.file), 'utf8')).toMatch(/^<svg /);
      }
      expect(outcome.leftNamespaces).toEqual([]);
      expect((await listNamespaces()).filter((n) => n.startsWith(`mwanbench-${process.pid}-`))).toEqual([]);
    } finally {
      if (outcome && existsSync(outcome.out)) rmSync(outcome.out, { recursive: true, force: true });
    }
  }, 240_000);
});
