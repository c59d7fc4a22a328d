import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Lab } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { daemonReloadMs, type DaemonReload } from '../daemon-times.js';
import { fmt, table } from '../markdown.js';
import type { Section, Target } from '../report.js';
import { roundOrder } from '../schedule.js';
import { summarize } from '../stats.js';
import { loadedStrategy, writeWatchConfig } from '../watch-config.js';
import { WatchProcess } from '../watch-process.js';

const TITLE = 'Reload time inside the daemon';
/** The daemon's own time from request to swapped table, 64 links. */
const TARGET_MS_64 = 100;
const STRATEGIES = ['round-robin', 'weighted'] as const;

interface PerKind {
  /** The daemon's own ms of each reload, from its log. */
  daemonMs: number[];
  /** The bench's wall time per reload: for an apply, the client's start-up and its wait included. */
  wallMs: number[];
}

interface PerLinks {
  links: number;
  sighup: PerKind;
  apply: PerKind;
}

interface Resident {
  lab: Lab;
  watch: WatchProcess;
  path: string;
  weights: number[];
  /** The strategy loaded now: every reload switches to the other one, a real table swap. */
  loaded: string;
  data: PerLinks;
}

/**
 * `mwan watch` running on a 2-link and on a 64-link router (no traffic): SIGHUP reloads and
 * `mwan apply` through the daemon's socket, alternating strategies, and the time the daemon logs
 * for each from request to swapped table.
 */
export async function daemonReload(ctx: BenchContext): Promise<Section> {
  const counts = ctx.quick ? [2, 4] : [2, 64];
  // Per lab, kind and round; with 5 rounds, 10 of each kind.
  const perRound = ctx.quick ? 1 : 2;
  const labs: Resident[] = [];
  try {
    for (const links of counts) {
      const lab = await Lab.create({ links, rpFilter: 0, prefix: ctx.labPrefix, log: ctx.log });
      const entry = { lab, loaded: STRATEGIES[0], weights: Array.from({ length: links }, (_, i) => (i % 4) + 1), data: { links, sighup: kind(), apply: kind() } } as Resident;
      labs.push(entry);
      entry.path = join(lab.dir, 'mwan-daemon-reload.json');
      await writeWatchConfig(lab, entry.path, entry.loaded, entry.weights);
      entry.watch = await WatchProcess.start(lab, entry.path);
    }
    for (let round = 0; round < ctx.rounds; round++) {
      for (const r of roundOrder(labs, round)) {
        // The two kinds take turns; which one goes first alternates with the round.
        const kinds = roundOrder<DaemonReload>(['sighup', 'apply'], round);
        for (let i = 0; i < perRound; i++) for (const k of kinds) await reloadOnce(r, k);
        const last = (k: DaemonReload) => r.data[k].daemonMs.slice(-perRound).map((ms) => fmt(ms)).join(', ');
        ctx.log(`daemon reload round ${round + 1}/${ctx.rounds}, ${r.data.links} links: SIGHUP ${last('sighup')} ms, apply ${last('apply')} ms`);
      }
    }
  } finally {
    for (const r of labs) {
      await r.watch?.stop();
      await r.lab.destroy();
    }
  }
  return describe(labs.map((r) => r.data), ctx.rounds, perRound);
}

const kind = (): PerKind => ({ daemonMs: [], wallMs: [] });

/** One reload to the other strategy, checked: the daemon logged it and the table names it. */
async function reloadOnce(r: Resident, k: DaemonReload): Promise<void> {
  const strategy = r.loaded === STRATEGIES[0] ? STRATEGIES[1] : STRATEGIES[0];
  const started = performance.now();
  if (k === 'sighup') {
    await writeWatchConfig(r.lab, r.path, strategy, r.weights);
    const sent = performance.now();
    r.watch.hangUp();
    await r.watch.waitFor(/^SIGHUP: reloaded /, sent, 20_000, `SIGHUP reload to ${strategy}`);
  } else {
    await r.lab.mwanOk(['apply', '--config', r.path, '--strategy', strategy]);
    await r.watch.waitFor(/^apply: .* applied for mwan apply /, started, 5000, "the daemon's log of the apply");
  }
  r.data[k].wallMs.push(performance.now() - started);
  const logged = daemonReloadMs(r.watch.lines, k, started);
  if (logged.length !== 1) throw new Error(`${k} reload to ${strategy}: the daemon logged ${logged.length} reload times`);
  r.data[k].daemonMs.push(logged[0]);
  const loaded = await loadedStrategy(r.lab);
  if (loaded !== strategy) throw new Error(`${k} reload to ${strategy}: the table names ${loaded ?? 'no strategy'}`);
  r.loaded = strategy;
}

const KIND_LABEL: Record<DaemonReload, string> = { sighup: 'SIGHUP', apply: 'mwan apply through the daemon' };

function describe(data: PerLinks[], rounds: number, perRound: number): Section {
  const rows: string[][] = [];
  const numbers: Record<string, number> = {};
  const targets: Target[] = [];
  for (const d of data) {
    for (const k of ['sighup', 'apply'] as const) {
      const own = summarize(d[k].daemonMs);
      const wall = summarize(d[k].wallMs);
      rows.push([String(d.links), KIND_LABEL[k], String(own.n), fmt(own.median), `${fmt(own.q1)}–${fmt(own.q3)}`, `${fmt(own.min)}–${fmt(own.max)}`, fmt(wall.median)]);
      numbers[`${d.links} links ${k} daemon ms median`] = own.median;
      numbers[`${d.links} links ${k} daemon ms max`] = own.max;
      // The 2-link target is judged under load (reload benchmark); here it is the idle figure.
      if (d.links !== 2) {
        targets.push({
          what: `the daemon's own time from request to swapped table, ${d.links} links, ${KIND_LABEL[k]} (no load)`,
          goal: `≤ ${TARGET_MS_64} ms (64 links)`,
          measured: `median ${fmt(own.median)} ms, max ${fmt(own.max)} ms (${own.n} reloads)`,
          met: d.links === 64 ? own.median <= TARGET_MS_64 : undefined,
        });
      }
    }
  }
  return {
    title: TITLE,
    measures:
      `\`mwan watch\` running on a ${data.map((d) => d.links).join('-link and a ')}-link router (both labs alive at once, no traffic), every ` +
      'link with a health target probed every 0.5 s (the default). In each of ' +
      `${rounds} rounds, per lab (order rotated), ${perRound} SIGHUP reloads and ${perRound} \`mwan apply\` through the daemon's socket, taking turns, ` +
      'each switching between round-robin and weighted (weights 1, 2, 3, 4 repeating): every one a real table swap, checked by the ' +
      'strategy the loaded table names. The figure is what the daemon logs for each: monotonic time from the signal, or from the ' +
      'request on its socket, to the swapped table. The last column is the bench\'s wall time per reload (for an apply: the client\'s ' +
      'node start-up, its wait and its exit included). The 2-link target (≤ 30 ms) is judged under load in the reload benchmark; ' +
      'here the 2-link lab gives the same figure idle, next to 64 links.',
    commands: [
      'ip netns exec <router> mwan --run-dir <dir> watch --config <lab config with health.targets>',
      'kill -HUP <watch pid>   (config strategy alternated)',
      'ip netns exec <router> mwan --run-dir <dir> apply --config <lab config> --strategy round-robin|weighted   (through the daemon)',
    ],
    body: [
      table(['links', 'reload', 'reloads', "the daemon's own ms, median", 'q1–q3', 'min–max', 'bench wall ms per reload, median'], rows),
    ],
    targets,
    plots: [],
    numbers,
    raw: { perLinks: data },
  };
}
