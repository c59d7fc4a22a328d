import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Lab, LoadReport } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { withLab } from '../context.js';
import { fmt, ratio, table } from '../markdown.js';
import { Nginx, SMALL_FILE } from '../nginx.js';
import { daemonReloadMs } from '../daemon-times.js';
import { interleavedRatio, interleavedSchedule, type Span } from '../interleave.js';
import { sleep } from '../poll.js';
import type { Section, Target } from '../report.js';
import { roundOrder } from '../schedule.js';
import { removeSeed, runSeed, SEED_COMMAND } from '../seed.js';
import { mwanConfig } from '../setups.js';
import { median, pairedRatios, summarize } from '../stats.js';
import { loadedStrategy, writeWatchConfig } from '../watch-config.js';
import { WatchProcess } from '../watch-process.js';

const TITLE = 'Reload under load';
/** Completed requests kept with reloads, relative to the same run without. */
const APPLY_TARGET = 0.9;
const SIGHUP_TARGET = 0.95;
/** The daemon's own time from request to swapped table, 2 links. */
export const DAEMON_TARGET_MS_2 = 30;

interface Contender {
  /** Prefix of its numbers in results.json. */
  key: string;
  label: string;
  /** Completed requests it must keep relative to the same run without reloads; none: a baseline or a diagnostic. */
  target?: number;
  up(lab: Lab): Promise<void>;
  /** The i-th reload. */
  reload(lab: Lab, i: number): Promise<void>;
  /** After the load (outside the window): what the kernel must show of the last reload. */
  verify?(lab: Lab): Promise<void>;
  /** A resident daemon's own time from request to swapped table, of each reload since `after` (performance.now()). */
  daemonMs?(after: number): number[];
  down(lab: Lab): Promise<void>;
}

interface Samples {
  key: string;
  target?: number;
  quiet: LoadReport[];
  reloading: LoadReport[];
  reloadsDone: number[];
  reloadMs: number[];
  /** What the daemon logged for each reload (resident contenders only). */
  daemonMs: number[];
  /** Per round (contenders with a target): reload seconds over quiet seconds of one run, reloads in alternate seconds. */
  interleaved: number[];
  /** Per round: how many seconds had a reload start in them, and how many none touched. */
  interleavedSeconds: Array<[number, number]>;
  interleavedDone: number[];
  interleavedFailed: number;
}

const seedContender: Contender = {
  key: 'seed',
  label: 'seed (re-run the script)',
  up: runSeed,
  reload: (lab) => runSeed(lab),
  down: removeSeed,
};

const STRATEGIES = ['round-robin', 'weighted'] as const;
/** The other of the two strategies: each reload swaps the table, however many were made before. */
const other = (strategy: string) => (strategy === STRATEGIES[0] ? STRATEGIES[1] : STRATEGIES[0]);

/** mwan apply alternating round-robin and weighted (1:3): every reload really swaps the table. */
function mwanContender(config: () => string): Contender {
  let last: string = STRATEGIES[0];
  return {
    key: 'mwan',
    label: 'mwan apply (alternating strategies)',
    target: APPLY_TARGET,
    up: async (lab) => {
      last = STRATEGIES[0];
      await lab.mwanOk(['apply', '--config', config(), '--strategy', last]);
    },
    reload: async (lab) => {
      last = other(last);
      await lab.mwanOk(['apply', '--config', config(), '--strategy', last]);
    },
    down: async (lab) => void (await lab.mwanOk(['down'])),
  };
}

/** Diagnostic: the same node start-up and rendering as an apply, but nothing changes in the kernel. */
function renderContender(config: () => string): Contender {
  return {
    key: 'diagnostic: mwan render (no change)',
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
    key: 'diagnostic: nft -f of the same tables',
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

/**
 * mwan's own resident process: `mwan watch` re-applies on SIGHUP inside the running node, so a
 * reload costs no start-up. A reload counts as done when watch logs that it swapped the table to
 * the new strategy; after the window, the loaded table must name the last one.
 */
function watchContender(): Contender {
  let watch: WatchProcess | undefined;
  let path = '';
  let last: string = STRATEGIES[0];
  return {
    key: 'watch',
    label: 'mwan watch, SIGHUP (resident process)',
    target: SIGHUP_TARGET,
    async up(l) {
      path = join(l.dir, 'mwan-watch.json');
      last = STRATEGIES[0];
      await writeWatchConfig(l, path, last);
      watch = await WatchProcess.start(l, path);
    },
    async reload(l) {
      const strategy = other(last);
      last = strategy;
      await writeWatchConfig(l, path, strategy);
      const sent = performance.now();
      watch!.hangUp();
      // Logged after the swap, naming the strategy the apply loaded; the kernel is read after the
      // window (a process per reload would be the bench's cost, counted against the daemon).
      const line = await watch!.waitFor(/^SIGHUP: reloaded /, sent, 10_000, `watch reload to ${strategy}`);
      if (!line.text.includes(`, strategy ${strategy}): table swapped in `)) throw new Error(`watch reload to ${strategy}: ${line.text}`);
    },
    async verify(l) {
      const loaded = await loadedStrategy(l);
      if (loaded !== last) throw new Error(`watch reloads: the table names ${loaded ?? 'no strategy'}, the last reload was to ${last}`);
    },
    daemonMs: (after) => daemonReloadMs(watch!.lines, 'sighup', after),
    async down(l) {
      await watch?.stop();
      watch = undefined;
      await l.mwanOk(['down']);
    },
  };
}

/**
 * `mwan apply` while `mwan watch` runs: the CLI hands the command line to the daemon over its
 * socket and the daemon applies (with its healthy links). The client is the lab's `mwan`, the
 * native front: it connects, asks and prints; the apply runs in the daemon. Alternating strategies, as the plain apply does; a reload counts
 * as done when the client exits 0 and the daemon has logged its swap to the new strategy.
 */
function daemonApplyContender(): Contender {
  let watch: WatchProcess | undefined;
  let path = '';
  let last: string = STRATEGIES[0];
  return {
    key: 'daemon',
    label: 'mwan apply through the daemon (mwan watch)',
    target: APPLY_TARGET,
    async up(l) {
      path = join(l.dir, 'mwan-daemon.json');
      last = STRATEGIES[0];
      await writeWatchConfig(l, path, last);
      watch = await WatchProcess.start(l, path);
    },
    async reload(l) {
      const strategy = other(last);
      last = strategy;
      const sent = performance.now();
      await l.mwanOk(['apply', '--config', path, '--strategy', strategy]);
      // Its answer and its log line travel apart; the line says the daemon, not the client, applied.
      const line = await watch!.waitFor(/^apply: .* applied for mwan apply /, sent, 5000, 'the daemon\'s log of the apply');
      if (!line.text.includes(`; strategy ${strategy}): table swapped in `)) throw new Error(`apply through the daemon to ${strategy}: ${line.text}`);
    },
    async verify(l) {
      const loaded = await loadedStrategy(l);
      if (loaded !== last) throw new Error(`applies through the daemon: the table names ${loaded ?? 'no strategy'}, the last apply was to ${last}`);
    },
    daemonMs: (after) => daemonReloadMs(watch!.lines, 'apply', after),
    async down(l) {
      await watch?.stop();
      watch = undefined;
      await l.mwanOk(['down']);
    },
  };
}

/**
 * The reloads of `schedule` (ms from `start`, performance.now()) in alternate seconds of one load;
 * each one's wall-clock span goes to `spans`. One that cannot start within its second (the one
 * before ran long) is not made.
 */
async function reloadInterleaved(lab: Lab, contender: Contender, schedule: readonly number[], start: number, spans: Span[]): Promise<number> {
  let done = 0;
  for (let i = 0; i < schedule.length; i++) {
    const due = start + schedule[i];
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() > start + (Math.floor(schedule[i] / 1000) + 1) * 1000 - 100) continue;
    const span = { start: Date.now(), end: 0 };
    await contender.reload(lab, i);
    span.end = Date.now();
    spans.push(span);
    done++;
  }
  return done;
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
      watchContender(),
      daemonApplyContender(),
      ...(ctx.quick ? [] : [renderContender(() => config), nftContender(() => config)]),
    ];
    for (const c of contenders) samples.set(c.label, { key: c.key, target: c.target, quiet: [], reloading: [], reloadsDone: [], reloadMs: [], daemonMs: [], interleaved: [], interleavedSeconds: [], interleavedDone: [], interleavedFailed: 0 });
    const load = (ms = durationMs, startAt?: number) => lab.load({
      to: nginx.address, port: nginx.port, mode: 'http', path: `/${SMALL_FILE}`, durationMs: ms, concurrency, stallMs: 1000, timeoutMs: 5000, ...(startAt !== undefined ? { startAt } : {}),
    });
    const onSeconds = durationMs / 1000;
    loadLine = `ip netns exec <lan> node packages/lab/tools/load.js --dst ${nginx.address} --port ${nginx.port} --duration ${durationMs} --concurrency ${concurrency} --stall 1000 --timeout 5000 --mode http --path /${SMALL_FILE}`;
    try {
      for (let round = 0; round < ctx.rounds; round++) {
        for (const c of roundOrder(contenders, round)) {
          const s = samples.get(c.label)!;
          let lastDaemonMs: number[] = [];
          await lab.flushConntrack();
          await c.up(lab);
          try {
            // Which of the pair goes first alternates with the round as well.
            const runs: Array<() => Promise<void>> = [
              async () => void s.quiet.push(await load()),
              async () => {
                const since = performance.now();
                const [report, done] = await Promise.all([load(), reloadDuring(lab, c, reloads, durationMs, s.reloadMs)]);
                await c.verify?.(lab);
                s.reloading.push(report);
                s.reloadsDone.push(done);
                lastDaemonMs = c.daemonMs?.(since) ?? [];
                s.daemonMs.push(...lastDaemonMs);
              },
            ];
            for (const run of roundOrder(runs, round)) {
              await run();
              await lab.flushConntrack();
            }
            // The same reloads in alternate seconds of one run. The load starts at a wall-clock
            // time agreed beforehand (its process needs a moment to start), so its seconds and
            // the schedule line up: its second 0 is left out, reloads start in seconds 1, 3 …,
            // none in 2, 4 …, and a last second closes it.
            if (c.target !== undefined) {
              const spans: Span[] = [];
              // Time enough for `ip netns exec` and node to start the load first, on a busy machine too.
              const startAt = Date.now() + 2000;
              const [report, done] = await Promise.all([
                load((2 * onSeconds + 1) * 1000 + 500, startAt),
                reloadInterleaved(lab, c, interleavedSchedule(reloads, onSeconds), performance.now() + (startAt - Date.now()) + 1000, spans),
              ]);
              await c.verify?.(lab);
              const split = interleavedRatio(report.perSecond, report.begin, spans);
              s.interleaved.push(split.ratio);
              s.interleavedSeconds.push([split.reloadSeconds, split.quietSeconds]);
              if (report.begin - startAt > 50) ctx.log(`reload: the alternate-seconds load started ${report.begin - startAt} ms late`);
              if (process.env.MWAN_BENCH_DEBUG) ctx.log(`DEBUG begin-startAt ${report.begin - startAt} starts ${spans.map((x) => x.start - report.begin).join(' ')} perSecond ${report.perSecond.join(' ')}`);
              s.interleavedDone.push(done);
              s.interleavedFailed += report.failed;
              await lab.flushConntrack();
            }
          } finally {
            await c.down(lab);
          }
          const daemon = c.daemonMs ? `, the daemon's own ms median ${fmt(median(lastDaemonMs))}` : '';
          const seconds = s.interleavedSeconds.at(-1);
          const alternate = c.target !== undefined ? `; alternate seconds ${fmt(s.interleaved.at(-1)!)} with ${s.interleavedDone.at(-1)} reloads (${seconds?.[0]} reload seconds, ${seconds?.[1]} quiet)` : '';
          ctx.log(`reload round ${round + 1}/${ctx.rounds} ${c.label}: ${s.reloading.at(-1)!.completed} completed with ${s.reloadsDone.at(-1)} reloads, ${s.quiet.at(-1)!.completed} without${alternate}${daemon}`);
        }
      }
    } finally {
      nginx.stop();
    }
  });
  return describe(samples, { durationMs, reloads, concurrency, rounds: ctx.rounds, loadLine });
}

/** The alternate-seconds ratio's median (min–max), and how many rounds had none (no second without a reload). */
function alternateCell(ratios: readonly number[]): string {
  if (!ratios.length) return '—';
  const finite = ratios.filter(Number.isFinite);
  const none = ratios.length - finite.length;
  if (!finite.length) return `n/a (${none} rounds without a quiet second)`;
  const range = `${ratio(median(finite))} (${ratio(Math.min(...finite))}–${ratio(Math.max(...finite))})`;
  return none ? `${range}; ${none} of ${ratios.length} rounds without a quiet second` : range;
}

function describe(samples: Map<string, Samples>, o: { durationMs: number; reloads: number; concurrency: number; rounds: number; loadLine: string }): Section {
  const rows: string[][] = [];
  const numbers: Record<string, number> = {};
  const targets: Target[] = [];
  const daemonTargets: Target[] = [];
  for (const [label, s] of samples) {
    const completedRatio = median(pairedRatios(s.reloading.map((r) => r.completed), s.quiet.map((r) => r.completed)));
    const failed = s.reloading.reduce((a, r) => a + r.failed, 0);
    const stalled = s.reloading.reduce((a, r) => a + r.stalled, 0);
    const quietFailed = s.quiet.reduce((a, r) => a + r.failed, 0);
    const reloadMs = summarize(s.reloadMs);
    const daemonMs = summarize(s.daemonMs);
    const resident = s.daemonMs.length > 0;
    const errors: Record<string, number> = {};
    for (const r of s.reloading) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    rows.push([
      label,
      fmt(median(s.quiet.map((r) => r.completed))),
      fmt(median(s.reloading.map((r) => r.completed))),
      ratio(completedRatio),
      alternateCell(s.interleaved),
      `${failed}${Object.keys(errors).length ? ` (${Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
      String(stalled),
      fmt(median(s.reloading.map((r) => r.latencyMs.max ?? NaN))),
      fmt(median(s.reloadsDone)),
      `${fmt(reloadMs.median)} (${fmt(reloadMs.min)}–${fmt(reloadMs.max)})`,
      resident ? `${fmt(daemonMs.median)} (${fmt(daemonMs.min)}–${fmt(daemonMs.max)})` : '—',
      String(quietFailed),
    ]);
    const { key } = s;
    const allDone = s.reloadsDone.every((n) => n === o.reloads);
    const fewest = Math.min(...s.reloadsDone);
    numbers[`${key} completed ratio`] = completedRatio;
    numbers[`${key} failed`] = failed;
    numbers[`${key} stalled`] = stalled;
    numbers[`${key} reloads done`] = median(s.reloadsDone);
    const measured = `${ratio(completedRatio)}, ${failed} failed, ${stalled} stalled, ${allDone ? `all ${o.reloads}` : `as few as ${fewest} of ${o.reloads}`} reloads done`;
    if (s.target !== undefined) {
      // A round whose reloads left no second without one has no ratio: the target is not met then.
      const finite = s.interleaved.filter(Number.isFinite);
      const alternate = finite.length === s.interleaved.length ? median(finite) : NaN;
      const alternateDone = s.interleavedDone.every((n) => n === o.reloads);
      if (Number.isFinite(alternate)) numbers[`${key} alternate seconds ratio`] = alternate;
      numbers[`${key} alternate seconds rounds without a ratio`] = s.interleaved.length - finite.length;
      numbers[`${key} alternate seconds failed`] = s.interleavedFailed;
      numbers[`${key} alternate seconds reloads done`] = median(s.interleavedDone);
      targets.push({
        what: `reload under load, ${label}: completed in seconds with reloads vs seconds without, in alternate seconds of one run (the run pair for comparison), failures, ${o.reloads} reloads in ${o.durationMs / 1000} s`,
        goal: `≥ ${s.target}×, 0 failed, all reloads done`,
        measured: `${ratio(alternate)} (run pairs ${ratio(completedRatio)}), ${failed + s.interleavedFailed} failed, ${stalled} stalled, ${allDone && alternateDone ? `all ${o.reloads}` : `as few as ${Math.min(fewest, ...s.interleavedDone)} of ${o.reloads}`} reloads done`,
        met: alternate >= s.target && failed === 0 && s.interleavedFailed === 0 && allDone && alternateDone,
      });
    } else if (key === 'seed') {
      targets.push({ what: 'reload under load, seed (for comparison; expected ≈0.12× with stalls)', goal: 'baseline', measured, met: undefined });
    }
    if (resident) {
      numbers[`${key} daemon ms median`] = daemonMs.median;
      numbers[`${key} daemon ms max`] = daemonMs.max;
      daemonTargets.push({
        what: `the daemon's own time from request to swapped table, 2 links under load, ${label}`,
        goal: `≤ ${DAEMON_TARGET_MS_2} ms`,
        measured: `median ${fmt(daemonMs.median)} ms, max ${fmt(daemonMs.max)} ms (${daemonMs.n} reloads)`,
        met: daemonMs.median <= DAEMON_TARGET_MS_2,
      });
    }
  }
  return {
    title: TITLE,
    measures:
      `A 2-link lab; the LAN host makes requests to nginx for ${o.durationMs / 1000} s, each on a new TCP connection ` +
      `(${o.concurrency} at a time, 5 s timeout; "stalled" = took over 1 s). Each round runs the same load once without reloads ` +
      `and once with ${o.reloads} reloads started at an even pace (a reload never overlaps the previous one), in alternating order. ` +
      'The seed reloads by re-running its whole script; mwan by `mwan apply` switching between round-robin and weighted 1:3 ' +
      '(each one a real table swap); as a resident process, by `mwan watch` re-reading a config that alternates the same ' +
      'way on SIGHUP (a reload is done when watch logs that it swapped the table to the new strategy; after the window the loaded table must name the last one); and by the same ' +
      '`mwan apply` while `mwan watch` runs, which hands it to the daemon over its socket: the daemon applies, the client ' +
      'process only starts, asks and prints (done when the client exits 0 and the daemon has logged the swap to the new strategy; the table is checked after the window as well). ' +
      'Both watch setups have health targets and probe every 0.5 s. A reload that cannot start on time ' +
      'starts as soon as the previous one ends; those that do not fit in the window are not made ("reloads done"). ' +
      '"The daemon\'s own ms" is what `mwan watch` logs for each reload made under load: monotonic time from the signal or the ' +
      'request on its socket to the swapped table (`SIGHUP: reloaded …: table swapped in M ms, done in …`, `apply: … applied for mwan apply …: table swapped in M ms, done in …`); ' +
      'the reload ms column is the bench\'s own wall time per reload, client start-up included. Two diagnostic rows (full runs only) separate the causes: the same pace of `mwan render` ' +
      '(node start-up, loading and rendering, no change to the router) and of `nft -f` loading the two tables apply would load ' +
      `(the swap without node). ${o.rounds} rounds; the ratio is the median of per-round completed(reloads) ÷ completed(no reloads). ` +
      'The two runs of a pair are 8 s apart, and on this shared machine the rate of a run without reloads alone moves by more than the cost ' +
      'being measured (per-round ratios above 1 occur). So each setup with a target also runs the same reloads in alternate seconds of one load ' +
      `of ${2 * (o.durationMs / 1000) + 1.5} s, which starts at a wall-clock time agreed with the bench: after its first second, ${o.durationMs / 1000} seconds in which reloads start ` +
      `(their ${o.reloads} reloads at the same pace, from 0.05 s to 0.75 s into each) take turns with seconds without. "Alternate seconds" is the mean completions of the seconds in which a reload ` +
      'started over the mean of the seconds no reload touched (the first and last second left out, and a second only the end of a reload ran into counted as neither; fewer than 3 of a kind: no ratio), ' +
      'from the load\'s own per-second counts and the reloads\' wall-clock spans; the median over the rounds is what the target is judged on.',
    commands: [
      o.loadLine,
      `seed reload: ${SEED_COMMAND}`,
      'mwan reload: ip netns exec <router> mwan apply --config <lab config> --strategy round-robin|weighted',
      'watch reload: ip netns exec <router> mwan watch --config <lab config>; kill -HUP <pid>  (config strategy alternated)',
      'daemon reload: ip netns exec <router> mwan watch --config <lab config>; ip netns exec <router> mwan apply --config <lab config> --strategy round-robin|weighted',
    ],
    body: [
      table(
        ['setup', 'completed, no reloads', 'completed, reloads', 'ratio (run pair)', 'ratio, alternate seconds (min–max)', 'failed (errors)', 'stalled > 1 s', 'slowest request ms', 'reloads done', 'reload ms, median (min–max)', "the daemon's own ms, median (min–max)", 'failed, no reloads'],
        rows,
      ),
    ],
    targets: [...targets, ...daemonTargets],
    plots: [],
    numbers,
    raw: Object.fromEntries(samples),
  };
}
