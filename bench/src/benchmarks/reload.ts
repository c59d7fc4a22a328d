import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { configFor, type Lab, type LoadReport } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { withLab } from '../context.js';
import { fmt, ratio, table } from '../markdown.js';
import { Nginx, SMALL_FILE } from '../nginx.js';
import { sleep, waitUntil } from '../poll.js';
import type { Section, Target } from '../report.js';
import { roundOrder } from '../schedule.js';
import { removeSeed, runSeed, SEED_COMMAND } from '../seed.js';
import { mwanConfig } from '../setups.js';
import { median, pairedRatios, summarize } from '../stats.js';
import { WatchProcess } from '../watch-process.js';

const TITLE = 'Reload under load';
const TARGET = 0.9;

interface Contender {
  label: string;
  up(lab: Lab): Promise<void>;
  /** The i-th reload. */
  reload(lab: Lab, i: number): Promise<void>;
  down(lab: Lab): Promise<void>;
}

interface Samples {
  quiet: LoadReport[];
  reloading: LoadReport[];
  reloadsDone: number[];
  reloadMs: number[];
}

const seedContender: Contender = {
  label: 'seed (re-run the script)',
  up: runSeed,
  reload: (lab) => runSeed(lab),
  down: removeSeed,
};

/** mwan apply alternating round-robin and weighted (1:3): every reload really swaps the table. */
function mwanContender(config: () => string): Contender {
  const strategies = ['round-robin', 'weighted'];
  return {
    label: 'mwan apply (alternating strategies)',
    up: async (lab) => void (await lab.mwanOk(['apply', '--config', config(), '--strategy', strategies[0]])),
    reload: async (lab, i) => void (await lab.mwanOk(['apply', '--config', config(), '--strategy', strategies[(i + 1) % 2]])),
    down: async (lab) => void (await lab.mwanOk(['down'])),
  };
}

/** Diagnostic: the same node start-up and rendering as an apply, but nothing changes in the kernel. */
function renderContender(config: () => string): Contender {
  return {
    label: 'diagnostic: mwan render (no change)',
    up: async (lab) => void (await lab.mwanOk(['apply', '--config', config(), '--strategy', 'round-robin'])),
    reload: async (lab, i) => void (await lab.mwanOk(['render', '--config', config(), '--strategy', i % 2 ? 'round-robin' : 'weighted'])),
    down: async (lab) => void (await lab.mwanOk(['down'])),
  };
}

/** Diagnostic: only the table swap an apply makes (`nft -f` of the rendered tables), without node. */
function nftContender(config: () => string): Contender {
  const files: string[] = [];
  return {
    label: 'diagnostic: nft -f of the same tables',
    async up(lab) {
      await lab.mwanOk(['apply', '--config', config(), '--strategy', 'round-robin']);
      if (files.length) return;
      for (const strategy of ['weighted', 'round-robin']) {
        const { stdout } = await lab.mwanOk(['--json', 'render', '--config', config(), '--strategy', strategy]);
        files.push(await lab.writeConfig((JSON.parse(stdout) as { nft: string }).nft, `table-${strategy}.nft`));
      }
    },
    reload: async (lab, i) => void (await lab.exec('router', 'nft', ['-f', files[i % 2]])),
    down: async (lab) => void (await lab.mwanOk(['down'])),
  };
}

/** The strategy named in the loaded table's comment (what the last finished apply loaded). */
async function loadedStrategy(lab: Lab): Promise<string | undefined> {
  const { stdout } = await lab.exec('router', 'nft', ['list', 'chain', 'inet', 'mwan', 'lan'], { reject: false });
  return /mwan: strategy ([a-z0-9-]+)/.exec(stdout)?.[1];
}

/**
 * mwan's own resident process: `mwan watch` re-applies on SIGHUP inside the running node, so a
 * reload costs no start-up. The config is swapped by rename (never read half-written), and a
 * reload counts as done when the loaded table names the new strategy.
 */
function watchContender(lab: () => Lab): Contender {
  const strategies = ['round-robin', 'weighted'];
  let watch: WatchProcess | undefined;
  let path = '';
  const write = async (strategy: string) => {
    // Health targets as well: without any, watch has nothing to wait for and exits after its first apply.
    const config = { ...configFor(lab().links, { strategy, snat: 'address', weights: [1, 3] }), health: { targets: [lab().serverAddress] } };
    await writeFile(`${path}.next`, `${JSON.stringify(config, null, 2)}\n`);
    await rename(`${path}.next`, path);
  };
  return {
    label: 'mwan watch, SIGHUP (resident process)',
    async up(l) {
      path = join(l.dir, 'mwan-watch.json');
      await write(strategies[0]);
      watch = await WatchProcess.start(l, path);
    },
    async reload(l, i) {
      const strategy = strategies[(i + 1) % 2];
      await write(strategy);
      watch!.hangUp();
      await waitUntil(async () => ((await loadedStrategy(l)) === strategy ? true : undefined), 10_000, `watch reload to ${strategy}`, 5);
    },
    async down(l) {
      await watch?.stop();
      watch = undefined;
      await l.mwanOk(['down']);
    },
  };
}

/**
 * Starts reloads at an even pace over the load's duration; a reload that is still running when
 * the next is due delays it (they never overlap, as on a real router).
 */
async function reloadDuring(lab: Lab, contender: Contender, count: number, durationMs: number, times: number[]): Promise<number> {
  const start = performance.now();
  let done = 0;
  for (let i = 0; i < count; i++) {
    const due = start + (i * durationMs) / count;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() - start > durationMs) break;
    const t = performance.now();
    await contender.reload(lab, i);
    times.push(performance.now() - t);
    done++;
  }
  return done;
}

export async function reloadUnderLoad(ctx: BenchContext): Promise<Section> {
  const durationMs = ctx.quick ? 1000 : 8000;
  const reloads = ctx.quick ? 3 : 30;
  const concurrency = 8;
  const samples = new Map<string, Samples>();
  let loadLine = '';
  await withLab(ctx, { links: 2 }, async (lab) => {
    const nginx = await Nginx.start(lab, { dir: join(lab.dir, 'nginx'), address: lab.serverAddress });
    let config = '';
    config = await mwanConfig(lab, { label: 'reload', strategy: 'round-robin', weights: [1, 3] });
    const contenders = [
      seedContender,
      mwanContender(() => config),
      watchContender(() => lab),
      ...(ctx.quick ? [] : [renderContender(() => config), nftContender(() => config)]),
    ];
    for (const c of contenders) samples.set(c.label, { quiet: [], reloading: [], reloadsDone: [], reloadMs: [] });
    const load = () => lab.load({ to: nginx.address, port: nginx.port, mode: 'http', path: `/${SMALL_FILE}`, durationMs, concurrency, stallMs: 1000, timeoutMs: 5000 });
    loadLine = `ip netns exec <lan> node packages/lab/tools/load.js --dst ${nginx.address} --port ${nginx.port} --duration ${durationMs} --concurrency ${concurrency} --stall 1000 --timeout 5000 --mode http --path /${SMALL_FILE}`;
    try {
      for (let round = 0; round < ctx.rounds; round++) {
        for (const c of roundOrder(contenders, round)) {
          const s = samples.get(c.label)!;
          await lab.flushConntrack();
          await c.up(lab);
          try {
            // Which of the pair goes first alternates with the round as well.
            const runs: Array<() => Promise<void>> = [
              async () => void s.quiet.push(await load()),
              async () => {
                const [report, done] = await Promise.all([load(), reloadDuring(lab, c, reloads, durationMs, s.reloadMs)]);
                s.reloading.push(report);
                s.reloadsDone.push(done);
              },
            ];
            for (const run of roundOrder(runs, round)) {
              await run();
              await lab.flushConntrack();
            }
          } finally {
            await c.down(lab);
          }
          ctx.log(`reload round ${round + 1}/${ctx.rounds} ${c.label}: ${s.reloading.at(-1)!.completed} completed with ${s.reloadsDone.at(-1)} reloads, ${s.quiet.at(-1)!.completed} without`);
        }
      }
    } finally {
      nginx.stop();
    }
  });
  return describe(samples, { durationMs, reloads, concurrency, rounds: ctx.rounds, loadLine });
}

function describe(samples: Map<string, Samples>, o: { durationMs: number; reloads: number; concurrency: number; rounds: number; loadLine: string }): Section {
  const rows: string[][] = [];
  const numbers: Record<string, number> = {};
  const targets: Target[] = [];
  for (const [label, s] of samples) {
    const completedRatio = median(pairedRatios(s.reloading.map((r) => r.completed), s.quiet.map((r) => r.completed)));
    const failed = s.reloading.reduce((a, r) => a + r.failed, 0);
    const stalled = s.reloading.reduce((a, r) => a + r.stalled, 0);
    const quietFailed = s.quiet.reduce((a, r) => a + r.failed, 0);
    const reloadMs = summarize(s.reloadMs);
    const errors: Record<string, number> = {};
    for (const r of s.reloading) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    rows.push([
      label,
      fmt(median(s.quiet.map((r) => r.completed))),
      fmt(median(s.reloading.map((r) => r.completed))),
      ratio(completedRatio),
      `${failed}${Object.keys(errors).length ? ` (${Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
      String(stalled),
      fmt(median(s.reloading.map((r) => r.latencyMs.max ?? NaN))),
      fmt(median(s.reloadsDone)),
      `${fmt(reloadMs.median)} (${fmt(reloadMs.min)}–${fmt(reloadMs.max)})`,
      String(quietFailed),
    ]);
    const key = label.startsWith('seed') ? 'seed' : label.startsWith('mwan apply') ? 'mwan' : label.startsWith('mwan watch') ? 'watch' : label;
    const allDone = s.reloadsDone.every((n) => n === o.reloads);
    const fewest = Math.min(...s.reloadsDone);
    numbers[`${key} completed ratio`] = completedRatio;
    numbers[`${key} failed`] = failed;
    numbers[`${key} stalled`] = stalled;
    numbers[`${key} reloads done`] = median(s.reloadsDone);
    const measured = `${ratio(completedRatio)}, ${failed} failed, ${stalled} stalled, ${allDone ? `all ${o.reloads}` : `as few as ${fewest} of ${o.reloads}`} reloads done`;
    if (key === 'mwan' || key === 'watch') {
      targets.push({
        what: `reload under load, ${label}: completed vs the same run without reloads, failures, ${o.reloads} reloads in ${o.durationMs / 1000} s`,
        goal: `≥ ${TARGET}×, 0 failed, all reloads done`,
        measured,
        met: completedRatio >= TARGET && failed === 0 && allDone,
      });
    } else if (key === 'seed') {
      targets.push({ what: 'reload under load, seed (for comparison; expected ≈0.12× with stalls)', goal: 'baseline', measured, met: undefined });
    }
  }
  return {
    title: TITLE,
    measures:
      `A 2-link lab; the LAN host makes requests to nginx for ${o.durationMs / 1000} s, each on a new TCP connection ` +
      `(${o.concurrency} at a time, 5 s timeout; "stalled" = took over 1 s). Each round runs the same load once without reloads ` +
      `and once with ${o.reloads} reloads started at an even pace (a reload never overlaps the previous one), in alternating order. ` +
      'The seed reloads by re-running its whole script; mwan by `mwan apply` switching between round-robin and weighted 1:3 ' +
      '(each one a real table swap), and, as a resident process, by `mwan watch` re-reading a config that alternates the same ' +
      'way on SIGHUP (a reload is done when the loaded table names the new strategy). A reload that cannot start on time ' +
      'starts as soon as the previous one ends; those that do not fit in the window are not made ("reloads done"). Two diagnostic rows (full runs only) separate the causes: the same pace of `mwan render` ' +
      '(node start-up, loading and rendering, no change to the router) and of `nft -f` loading the two tables apply would load ' +
      `(the swap without node). ${o.rounds} rounds; the ratio is the median of per-round completed(reloads) ÷ completed(no reloads).`,
    commands: [
      o.loadLine,
      `seed reload: ${SEED_COMMAND}`,
      'mwan reload: ip netns exec <router> mwan apply --config <lab config> --strategy round-robin|weighted',
      'watch reload: ip netns exec <router> mwan watch --config <lab config>; kill -HUP <pid>  (config strategy alternated)',
    ],
    body: [
      table(
        ['setup', 'completed, no reloads', 'completed, reloads', 'ratio', 'failed (errors)', 'stalled > 1 s', 'slowest request ms', 'reloads done', 'reload ms, median (min–max)', 'failed, no reloads'],
        rows,
      ),
    ],
    targets,
    plots: [],
    numbers,
    raw: Object.fromEntries(samples),
  };
}
