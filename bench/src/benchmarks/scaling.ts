import { join } from 'node:path';
import { execa } from 'execa';
import { findMwanCli, Lab } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { countExecsInFile } from '../exec-count.js';
import { fmt, ratio, table } from '../markdown.js';
import { Nginx, SMALL_FILE } from '../nginx.js';
import { bothWays, type Section, type Target } from '../report.js';
import { roundOrder } from '../schedule.js';
import { removeSeed, SEED_COMMAND } from '../seed.js';
import { mwanConfig, type MwanChoice } from '../setups.js';
import { median, pairedRatios, summarize } from '../stats.js';
import { lineChart } from '../svg.js';
import { timeInNamespace, timeMwan, timeSeed } from '../timed.js';
import { runWrk, wrkArgs } from '../wrk.js';

const TITLE = 'Scaling in links';
const RATE_TARGET = 0.95;
const APPLY_TARGET_MS = 1000;

const ROUND_ROBIN: MwanChoice = { label: 'round-robin', strategy: 'round-robin' };
const WEIGHTED: MwanChoice = { label: 'weighted', strategy: 'weighted' };

interface PerLinks {
  links: number;
  /** Concurrent rounds (all labs at once). */
  connPerSecond: number[];
  /** Sequential rounds (one lab at a time). */
  connPerSecondSequential: number[];
  renderMs: number[];
  applyFreshMs: number[];
  applyFreshCpuMs: number[];
  applyReloadMs: number[];
  applyReloadCpuMs: number[];
  /** Programs one fresh apply and one reload started (from strace), by name. */
  execsFresh?: Record<string, number>;
  execsReload?: Record<string, number>;
  rulesetLines?: number;
}

interface Floor {
  nodeMs: number[];
  versionMs: number[];
  seedFreshMs: number[];
  seedFreshCpuMs: number[];
  seedRerunMs: number[];
}

interface Scaled {
  lab: Lab;
  nginx: Nginx;
  config: string;
  data: PerLinks;
}

const emptyPerLinks = (links: number): PerLinks => ({
  links, connPerSecond: [], connPerSecondSequential: [], renderMs: [], applyFreshMs: [], applyFreshCpuMs: [], applyReloadMs: [], applyReloadCpuMs: [],
});

/**
 * One lab per link count, all alive together so the rounds can interleave them: new-connection
 * rate through mwan round-robin, then wall time of the real CLI (render, fresh apply, reload).
 */
export async function scaling(ctx: BenchContext): Promise<Section> {
  const counts = ctx.quick ? [2, 8] : [2, 8, 32, 64];
  const seconds = ctx.quick ? 1 : 2;
  const labs: Scaled[] = [];
  const floor: Floor = { nodeMs: [], versionMs: [], seedFreshMs: [], seedFreshCpuMs: [], seedRerunMs: [] };
  let wrkLine: string;
  try {
    for (const links of counts) {
      const lab = await Lab.create({ links, rpFilter: 0, prefix: ctx.labPrefix, log: ctx.log });
      // Pushed before anything else can fail, so the finally below removes it.
      const entry = { lab, config: '', data: emptyPerLinks(links) } as Scaled;
      labs.push(entry);
      entry.nginx = await Nginx.start(lab, { dir: join(lab.dir, 'nginx'), address: lab.serverAddress });
      entry.config = await mwanConfig(lab, ROUND_ROBIN);
      entry.data.rulesetLines = (await execa(process.execPath, [findMwanCli(), '--run-dir', lab.runDir, 'render', '--config', entry.config])).stdout.split('\n').length;
      await lab.mwanOk(['apply', '--config', entry.config]);
    }

    // Concurrent rounds: every lab's client at the same moment (the machine's noise hits all alike);
    // sequential rounds: one lab at a time with the machine to itself, rotated.
    const wrkOptions = (s: Scaled) => ({ url: s.nginx.url(SMALL_FILE), seconds, connections: 8 });
    wrkLine = `ip netns exec <lan> wrk ${wrkArgs(wrkOptions(labs[0])).map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
    const concurrentRounds = ctx.quick ? ctx.rounds : ctx.rounds * 3;
    for (let round = 0; round < concurrentRounds; round++) {
      await Promise.all(labs.map((s) => s.lab.flushConntrack()));
      await Promise.all(roundOrder(labs, round).map(async (s) => s.data.connPerSecond.push((await runWrk(s.lab, wrkOptions(s))).perSecond)));
      ctx.log(`scaling, concurrent round ${round + 1}/${concurrentRounds}: ${labs.map((s) => `${s.data.links} links ${fmt(s.data.connPerSecond.at(-1)!)} conn/s`).join(', ')}`);
    }
    const sequentialRounds = ctx.quick ? 0 : ctx.rounds;
    for (let round = 0; round < sequentialRounds; round++) {
      for (const s of roundOrder(labs, round)) {
        await s.lab.flushConntrack();
        s.data.connPerSecondSequential.push((await runWrk(s.lab, wrkOptions(s))).perSecond);
      }
      ctx.log(`scaling, sequential round ${round + 1}/${sequentialRounds}: ${labs.map((s) => `${s.data.links} links ${fmt(s.data.connPerSecondSequential.at(-1)!)} conn/s`).join(', ')}`);
    }

    for (let round = 0; round < ctx.rounds; round++) {
      for (const s of roundOrder(labs, round)) {
        const blocks = [() => timeMwanBlock(s)];
        if (s.data.links === 2) blocks.push(() => timeSeedBlock(s.lab, floor));
        for (const block of roundOrder(blocks, round)) await block();
        ctx.log(`scaling timing round ${round + 1}/${ctx.rounds}, ${s.data.links} links: apply ${fmt(s.data.applyFreshMs.at(-1)!)} ms fresh, ${fmt(s.data.applyReloadMs.at(-1)!)} ms reload`);
      }
      const router = labs[0].lab.ns.router;
      floor.nodeMs.push((await timeInNamespace(router, process.execPath, ['-e', '0'])).wallMs);
      floor.versionMs.push((await timeInNamespace(router, process.execPath, [findMwanCli(), '--version'])).wallMs);
    }

    // strace slows what it traces: once per lab after the timed runs, and not in quick runs.
    if (!ctx.quick) for (const s of labs) await profileApply(s);
  } finally {
    for (const s of labs) {
      s.nginx?.stop();
      await s.lab.destroy();
    }
  }
  return describe(labs.map((s) => s.data), floor, ctx.rounds, seconds, wrkLine);
}

/** Render, a fresh apply (after down) and a reload to another strategy. */
async function timeMwanBlock(s: Scaled): Promise<void> {
  const { lab, config, data } = s;
  data.renderMs.push((await timeMwan(lab, ['render', '--config', config])).wallMs);
  await lab.mwanOk(['down']);
  await lab.flushConntrack();
  const fresh = await timeMwan(lab, ['apply', '--config', config]);
  data.applyFreshMs.push(fresh.wallMs);
  data.applyFreshCpuMs.push(fresh.cpuMs);
  const reload = await timeMwan(lab, ['apply', '--config', config, '--strategy', WEIGHTED.strategy as string]);
  data.applyReloadMs.push(reload.wallMs);
  data.applyReloadCpuMs.push(reload.cpuMs);
}

/** The seed on the same router with mwan down: a run on a clean router, then a re-run. */
async function timeSeedBlock(lab: Lab, floor: Floor): Promise<void> {
  await lab.mwanOk(['down']);
  await lab.flushConntrack();
  const fresh = await timeSeed(lab);
  floor.seedFreshMs.push(fresh.wallMs);
  floor.seedFreshCpuMs.push(fresh.cpuMs);
  floor.seedRerunMs.push((await timeSeed(lab)).wallMs);
  await removeSeed(lab);
}

/** Which programs an apply starts: the count explains most of its wall time. */
async function profileApply(s: Scaled): Promise<void> {
  const { lab, config, data } = s;
  const trace = async (args: string[]): Promise<Record<string, number> | undefined> => {
    const out = join(lab.dir, `strace-${data.links}.txt`);
    const result = await execa('ip', ['netns', 'exec', lab.ns.router, 'strace', '-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', out,
      process.execPath, findMwanCli(), '--run-dir', lab.runDir, ...args], { reject: false });
    return result.exitCode === 0 ? countExecsInFile(out) : undefined;
  };
  await lab.mwanOk(['down']);
  data.execsFresh = await trace(['apply', '--config', config]);
  data.execsReload = await trace(['apply', '--config', config, '--strategy', WEIGHTED.strategy as string]);
}

const spread = (values: readonly number[]): string => {
  const s = summarize(values);
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
};

const execSummary = (execs: Record<string, number> | undefined): string =>
  execs ? Object.entries(execs).sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ×${n}`).join(', ') : 'n/a';

function describe(data: PerLinks[], floor: Floor, rounds: number, seconds: number, wrkLine: string): Section {
  const two = data.find((d) => d.links === 2)!;
  const most = data[data.length - 1];
  const rateRatio = (d: PerLinks) => median(pairedRatios(d.connPerSecond, two.connPerSecond));
  const sequentialRatio = (d: PerLinks) => median(pairedRatios(d.connPerSecondSequential, two.connPerSecondSequential));
  const iqr = (values: number[]) => {
    const s = summarize(values);
    return `[${s.q1.toFixed(2)}–${s.q3.toFixed(2)}]`;
  };
  const sequential = two.connPerSecondSequential.length > 0;
  const rateRows = data.map((d) => [
    String(d.links),
    spread(d.connPerSecond),
    `${ratio(rateRatio(d))} ${iqr(pairedRatios(d.connPerSecond, two.connPerSecond))}`,
    ...(sequential ? [spread(d.connPerSecondSequential), `${ratio(sequentialRatio(d))} ${iqr(pairedRatios(d.connPerSecondSequential, two.connPerSecondSequential))}`] : []),
    String(d.rulesetLines ?? 'n/a'),
  ]);
  const timeRows = data.map((d) => [
    String(d.links), spread(d.renderMs), spread(d.applyFreshMs), fmt(median(d.applyFreshCpuMs)), spread(d.applyReloadMs), fmt(median(d.applyReloadCpuMs)),
  ]);
  const execRows = data.map((d) => [String(d.links), execSummary(d.execsFresh), execSummary(d.execsReload)]);
  const freshVsSeed = median(pairedRatios(two.applyFreshMs, floor.seedFreshMs));
  const reloadVsSeed = median(pairedRatios(two.applyReloadMs, floor.seedRerunMs));
  const mostFresh = median(most.applyFreshMs);
  const mostReload = median(most.applyReloadMs);
  const targets: Target[] = [
    { what: `scaling: new-connection rate, ${most.links} links vs 2 links`, goal: `≥ ${RATE_TARGET}×`, measured: `${ratio(rateRatio(most))} concurrent${sequential ? `, ${ratio(sequentialRatio(most))} sequential` : ''}`, met: most.links === 64 ? bothWays(rateRatio(most), sequential ? sequentialRatio(most) : undefined, (r) => r >= RATE_TARGET) : undefined },
    { what: 'mwan apply, 2 links (fresh) vs one run of the seed script on a clean router (paired)', goal: '≤ 1.00×', measured: `${ratio(freshVsSeed)} (${fmt(median(two.applyFreshMs))} ms vs ${fmt(median(floor.seedFreshMs))} ms)`, met: freshVsSeed <= 1 },
    { what: 'mwan apply, 2 links (reload, other strategy) vs a re-run of the seed script (paired)', goal: '≤ 1.00×', measured: `${ratio(reloadVsSeed)} (${fmt(median(two.applyReloadMs))} ms vs ${fmt(median(floor.seedRerunMs))} ms)`, met: reloadVsSeed <= 1 },
    { what: `mwan apply, ${most.links} links, fresh`, goal: `≤ ${APPLY_TARGET_MS} ms`, measured: `${fmt(mostFresh)} ms`, met: most.links === 64 ? mostFresh <= APPLY_TARGET_MS : undefined },
    { what: `mwan apply, ${most.links} links, reload`, goal: `≤ ${APPLY_TARGET_MS} ms`, measured: `${fmt(mostReload)} ms`, met: most.links === 64 ? mostReload <= APPLY_TARGET_MS : undefined },
  ];
  const numbers: Record<string, number> = {
    'node start-up ms': median(floor.nodeMs),
    'mwan --version ms': median(floor.versionMs),
    'seed run ms': median(floor.seedFreshMs),
  };
  for (const d of data) {
    numbers[`${d.links} links conn/s`] = median(d.connPerSecond);
    if (d.connPerSecondSequential.length) numbers[`${d.links} links conn/s sequential`] = median(d.connPerSecondSequential);
    numbers[`${d.links} links render ms`] = median(d.renderMs);
    numbers[`${d.links} links apply fresh ms`] = median(d.applyFreshMs);
    numbers[`${d.links} links apply reload ms`] = median(d.applyReloadMs);
  }
  const ratioPoint = (links: number, values: number[], baseline: number[]) => {
    const s = summarize(pairedRatios(values, baseline));
    return { x: links, y: s.median, lo: s.q1, hi: s.q3 };
  };
  const rate = lineChart({
    title: 'New-connection rate vs number of links (mwan round-robin)',
    xLabel: 'links',
    yLabel: 'conn/s ÷ conn/s with 2 links (median, IQR)',
    categoricalX: true,
    series: [
      { name: 'concurrent rounds', points: data.map((d) => ratioPoint(d.links, d.connPerSecond, two.connPerSecond)) },
      ...(two.connPerSecondSequential.length
        ? [{ name: 'sequential rounds', points: data.map((d) => ratioPoint(d.links, d.connPerSecondSequential, two.connPerSecondSequential)) }]
        : []),
    ],
    reference: { y: RATE_TARGET, label: `target ${RATE_TARGET}` },
  });
  const point = (links: number, values: number[]) => {
    const s = summarize(values);
    return { x: links, y: s.median, lo: s.min, hi: s.max };
  };
  const time = lineChart({
    title: 'mwan CLI wall time vs number of links',
    xLabel: 'links',
    yLabel: 'ms (median, whiskers min–max)',
    categoricalX: true,
    series: [
      { name: 'mwan apply, fresh', points: data.map((d) => point(d.links, d.applyFreshMs)) },
      { name: 'mwan apply, reload', points: data.map((d) => point(d.links, d.applyReloadMs)) },
      { name: 'mwan render', points: data.map((d) => point(d.links, d.renderMs)) },
    ],
    reference: { y: median(floor.seedFreshMs), label: `seed script, 2 links: ${fmt(median(floor.seedFreshMs))} ms` },
  });
  return {
    title: TITLE,
    measures:
      `One lab per link count (${data.map((d) => d.links).join(', ')}), all alive at once. New-connection rate: wrk for ${seconds} s ` +
      '(8 connections, `Connection: close`) through mwan round-robin, in concurrent rounds (every lab\'s client at the same moment) ' +
      'and sequential rounds (one lab at a time, rotated); the ratio is the median of per-round ratios to the 2-link lab, with its ' +
      `interquartile range; the target is met when both ways meet it, inconclusive when they disagree. CLI time: wall clock of the real \`mwan\` (node) started in the router namespace, ${rounds} ` +
      'runs each: `render`; `apply` on a router without mwan (after `mwan down`, "fresh"); `apply` switching the strategy to weighted ' +
      '("reload"). CPU is user + system time of the command and its children (GNU time). For 2 links the seed script is timed in the ' +
      'same rounds on the same router (mwan down): on a clean router and re-run.',
    commands: [
      wrkLine,
      'ip netns exec <router> /usr/bin/time node packages/cli/bin/mwan.js --run-dir <dir> apply --config <lab config> [--strategy weighted]',
      'node packages/cli/bin/mwan.js --run-dir <dir> render --config <lab config>',
      `ip netns exec <router> /usr/bin/time ${SEED_COMMAND.replace('ip netns exec <router> ', '')}`,
      'ip netns exec <router> strace -f -e trace=execve node packages/cli/bin/mwan.js apply ...   (programs started)',
    ],
    body: [
      table(['links', 'concurrent: new conn/s, median (min–max)', 'vs 2 links [IQR]', ...(sequential ? ['sequential: new conn/s', 'vs 2 links [IQR]'] : []), '`mwan render` lines'], rateRows),
      table(['links', 'render ms', 'apply fresh ms', 'fresh CPU ms', 'apply reload ms', 'reload CPU ms'], timeRows),
      table(['what (2-link router)', 'ms, median (min–max)'], [
        ['`node -e 0` (start-up floor)', spread(floor.nodeMs)],
        ['`mwan --version` (start-up + loading the CLI)', spread(floor.versionMs)],
        ['seed script, clean router', spread(floor.seedFreshMs)],
        ['seed script, CPU', spread(floor.seedFreshCpuMs)],
        ['seed script, re-run', spread(floor.seedRerunMs)],
      ]),
      'Programs one `mwan apply` starts (strace):\n\n' + table(['links', 'fresh apply', 'reload'], execRows),
    ],
    targets,
    plots: [
      { file: 'scaling-rate.svg', svg: rate, title: 'New-connection rate relative to 2 links' },
      { file: 'scaling-cli-time.svg', svg: time, title: 'mwan render / apply wall time' },
    ],
    numbers,
    raw: { perLinks: data, floor },
  };
}
