import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { namespacesStartingWith, sweepStaleLabs } from '@mwan/lab';
import { capacity } from './benchmarks/capacity.js';
import { daemonReload } from './benchmarks/daemon-reload.js';
import { dataPlane } from './benchmarks/data-plane.js';
import { failover } from './benchmarks/failover.js';
import { ipv6 } from './benchmarks/ipv6.js';
import { reloadUnderLoad } from './benchmarks/reload.js';
import { rulesBench } from './benchmarks/rules.js';
import { scaling } from './benchmarks/scaling.js';
import { soak } from './benchmarks/soak.js';
import { LAB_PREFIX, type BenchContext } from './context.js';
import { findings } from './findings.js';
import { machineFacts } from './machine.js';
import { BENCH_DIR, REPO } from './paths.js';
import type { Section } from './report.js';
import { resultsMarkdown, type RunInfo } from './results.js';

export const BENCHMARKS = {
  'data-plane': dataPlane,
  scaling,
  reload: reloadUnderLoad,
  'daemon-reload': daemonReload,
  capacity,
  failover,
  rules: rulesBench,
  soak,
  ipv6,
} as const satisfies Record<string, (ctx: BenchContext) => Promise<Section>>;

export type BenchmarkName = keyof typeof BENCHMARKS;

export interface BenchOptions {
  quick?: boolean;
  /** Where RESULTS.md, results.json and plots/ go; default bench/ (quick: a new temporary directory). */
  out?: string;
  rounds?: number;
  only?: readonly BenchmarkName[];
  log?: (message: string) => void;
  /** How the run was started, for RESULTS.md. */
  command?: string;
  /** Keep the sections of the benchmarks not run from `out`/results.json (with their plots). */
  merge?: boolean;
}

export interface BenchOutcome {
  out: string;
  resultsPath: string;
  sections: Record<string, Section>;
  /** Namespaces of this process's labs still present at the end (should be none). */
  leftNamespaces: string[];
}

const MIN_ROUNDS = 5;

export async function runBench(options: BenchOptions = {}): Promise<BenchOutcome> {
  const quick = options.quick ?? false;
  const rounds = options.rounds ?? (quick ? 1 : MIN_ROUNDS);
  const out = resolve(options.out ?? (quick ? mkdtempSync(join(tmpdir(), 'mwanbench-quick-')) : BENCH_DIR));
  const log = options.log ?? ((m: string) => process.stderr.write(`bench: ${m}\n`));
  const ctx: BenchContext = { quick, rounds, labPrefix: LAB_PREFIX, log };
  const names = options.only ?? (Object.keys(BENCHMARKS) as BenchmarkName[]);

  // Labs of earlier runs that were killed too hard to clean up (their process is gone).
  for (const removed of await sweepStaleLabs(LAB_PREFIX)) log(`removed leftover ${removed}`);
  const machine = await machineFacts(REPO);
  const started = performance.now();
  const sections: Record<string, Section> = {};
  for (const name of names) {
    const t = performance.now();
    log(`${name}: starting`);
    sections[name] = await BENCHMARKS[name](ctx);
    sections[name].seconds = (performance.now() - t) / 1000;
    log(`${name}: done in ${Math.round(sections[name].seconds)} s`);
  }
  const seconds = (performance.now() - started) / 1000;

  const run = { command: options.command ?? 'npm run bench', quick, rounds, seconds, machine, loadAfter: loadavg().map((l) => Math.round(l * 100) / 100) };
  const resultsPath = writeResults(out, run, sections, { merge: options.merge ?? false });
  const leftNamespaces = await namespacesStartingWith(`${LAB_PREFIX}-${process.pid}-`);
  return { out, resultsPath, sections, leftNamespaces };
}

/**
 * Writes RESULTS.md, results.json and the plots of `sections` (the benchmarks just run) into
 * `out`; with `merge`, the other benchmarks' sections of the results.json already there are kept.
 * Returns the path of RESULTS.md.
 */
export function writeResults(out: string, run: RunInfo, sections: Record<string, Section>, options: { merge: boolean }): string {
  const plotsDir = join(out, 'plots');
  mkdirSync(plotsDir, { recursive: true });
  for (const section of Object.values(sections)) for (const p of section.plots) writeFileSync(join(plotsDir, p.file), p.svg);
  const all = options.merge ? { ...keptSections(join(out, 'results.json'), Object.keys(sections)), ...sections } : sections;
  const order = (Object.keys(BENCHMARKS) as BenchmarkName[]).filter((n) => n in all);
  const resultsPath = join(out, 'RESULTS.md');
  writeFileSync(resultsPath, resultsMarkdown(run, order.map((n) => all[n]), findings(all), relative(out, plotsDir) || '.'));
  const stored = Object.fromEntries(order.map((n) => [n, { ...all[n], plots: all[n].plots.map(({ file, title }) => ({ file, title })) }]));
  writeFileSync(join(out, 'results.json'), `${JSON.stringify({ run, sections: stored }, null, 2)}\n`);
  return resultsPath;
}

/**
 * The sections of an earlier results.json for the benchmarks not in `ran`, each saying which run it
 * is from; their plots are already in plots/ (results.json names them: as strings in older files).
 */
function keptSections(path: string, ran: readonly string[]): Record<string, Section> {
  if (!existsSync(path)) return {};
  const previous = JSON.parse(readFileSync(path, 'utf8')) as {
    run: { machine: { date: string; commit: string } };
    sections: Record<string, Omit<Section, 'plots'> & { plots: (string | { file: string; title: string })[] }>;
  };
  const from = `${previous.run.machine.date.slice(0, 10)} (${previous.run.machine.commit.slice(0, 12)})`;
  return Object.fromEntries(Object.entries(previous.sections).filter(([name]) => name in BENCHMARKS && !ran.includes(name)).map(([name, s]) => [name, {
    ...s,
    from: s.from ?? from,
    plots: s.plots.map((p) => (typeof p === 'string' ? { file: p, title: p, svg: '' } : { ...p, svg: '' })),
  }]));
}

const USAGE = `usage: npm run bench -- [--quick] [--out DIR] [--rounds N] [--only ${Object.keys(BENCHMARKS).join(',')}]
  --quick    tiny runs (under a minute) written to a temporary directory, not bench/RESULTS.md
  --out      directory for RESULTS.md, results.json and plots/ (default bench/)
  --rounds   paired rounds per comparison (default ${MIN_ROUNDS}; 1 with --quick)
  --only     run only these benchmarks
  --merge    keep the other benchmarks' results from the results.json in --out (each says its run)
Needs root (network namespaces).`;

/** The bench's command line; returns the exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        out: { type: 'string' },
        rounds: { type: 'string' },
        only: { type: 'string' },
        merge: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((n) => !(n in BENCHMARKS));
  const rounds = values.rounds !== undefined ? Number(values.rounds) : undefined;
  if (unknown?.length || (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1))) {
    process.stderr.write(`bench: ${unknown?.length ? `unknown benchmark(s): ${unknown.join(', ')}` : `--rounds must be a whole number ≥ 1`}\n${USAGE}\n`);
    return 2;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    process.stderr.write('bench: needs root (it builds network namespaces); run it as root\n');
    return 1;
  }
  if (rounds !== undefined && rounds < MIN_ROUNDS && !values.quick) process.stderr.write(`bench: warning: ${rounds} rounds; medians need at least ${MIN_ROUNDS}\n`);
  const outcome = await runBench({
    quick: values.quick,
    ...(values.out ? { out: values.out } : {}),
    ...(rounds !== undefined ? { rounds } : {}),
    ...(only ? { only: only as BenchmarkName[] } : {}),
    merge: values.merge,
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  });
  process.stdout.write(`bench: results in ${outcome.resultsPath}\n`);
  if (outcome.leftNamespaces.length) {
    process.stderr.write(`bench: namespaces left behind: ${outcome.leftNamespaces.join(', ')}\n`);
    return 1;
  }
  return 0;
}
