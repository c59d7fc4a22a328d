import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { configFor, type Lab } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { withLab } from '../context.js';
import { fmt, table } from '../markdown.js';
import { TOOLS } from '../paths.js';
import { sleep, waitUntil } from '../poll.js';
import { notMeasured, type Section } from '../report.js';
import { median } from '../stats.js';
import { WatchProcess } from '../watch-process.js';
import { watchAvailable } from './failover.js';

const TITLE = 'Soak: memory, descriptors and probe CPU of mwan watch';
const MEASURES_SHORT = 'mwan watch for ≥ 10 000 rounds of probes and kernel events: memory and descriptors at the start, middle and end; CPU per probed link-hour.';
const MIN_ROUNDS = 10_000;
/** Where the soak's watch serves metrics, inside the lab's router namespace (nothing else listens there). */
const METRICS = '127.0.0.1:9567';
/** The table of the link the events are made on (set in the config, so the events script knows it). */
const EVENT_LINK_TABLE = 1002;
/**
 * The JavaScript objects still referenced after a full collection (the heap less compiled code)
 * may grow by this much per 10 000 rounds: a leak of 50 bytes a round would show.
 */
const HEAP_GOAL_BYTES = 512 << 10;
/** The resident set's peak in the last third of the soak may exceed the middle third's by this much. */
const RSS_GOAL_BYTES = 4 << 20;
/** V8's spaces of compiled code: they grow while it optimizes more functions, then stop. */
const CODE_SPACES = ['code_space', 'code_large_object_space'];
const HOUR_S = 3600;

/** What bench/tools/soak-sample.js writes on each SIGUSR2. */
interface ProcessSample {
  n: number;
  /** No child but the event monitors was running when it was taken (it waits up to 0.5 s for that). */
  quiet: boolean;
  monotonicMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapBeforeGcBytes: number;
  externalBytes: number;
  heapSpaces: Record<string, number>;
  openFds: number;
  resources: Record<string, number>;
  ticks: { user: number; system: number; childrenUser: number; childrenSystem: number };
  children: { pid: number; comm: string; steady: boolean; ticks: number }[];
}

/** One point of the soak: the process, and the daemon's own counts. */
interface SoakPoint {
  seconds: number;
  /** Probe rounds (health.json) plus kernel-versus-config comparisons (mwan_watch_checks_total). */
  rounds: number;
  probeRounds: number;
  checks: number;
  reconciles: number;
  repairs: number;
  applies: number;
  rssBytes: number;
  heapBytes: number;
  /** Of the heap, compiled code. */
  codeBytes: number;
  openFds: number;
  /** libuv handles and requests keeping the loop alive (timers, pipes, child processes, sockets). */
  handles: number;
  /** Children besides the event monitors (probes, commands) running when the sample was taken. */
  children: number;
  quiet: boolean;
  cpuSeconds: number;
}

interface CpuPhase {
  what: string;
  links: number;
  seconds: number;
  probeRounds: number;
  cpuSeconds: number;
  selfSeconds: number;
  childSeconds: number;
}

interface Plan {
  idleS: number;
  probingS: number;
  /** A sample every so many seconds; the soak ends after `minRounds` and `minSamples`, or after `maxS`. */
  everyS: number;
  minRounds: number;
  minSamples: number;
  maxS: number;
}

const FULL: Plan = { idleS: 30, probingS: 60, everyS: 10, minRounds: 11_000, minSamples: 12, maxS: 420 };
const QUICK: Plan = { idleS: 4, probingS: 6, everyS: 3, minRounds: 0, minSamples: 4, maxS: 12 };

/** The environment that loads the sampler into the watch (see bench/tools/soak-sample.js). */
const samplerEnv = (dir: string) => ({
  NODE_OPTIONS: `--expose-gc --import ${join(TOOLS, 'soak-sample.js')}`,
  MWAN_SOAK_SAMPLES: dir,
  // `MWAN_SOAK_SNAPSHOTS=DIR npm run bench -- --only soak`: a heap snapshot with each sample, in DIR.
  ...(process.env.MWAN_SOAK_SNAPSHOTS ? { MWAN_SOAK_SNAPSHOTS: process.env.MWAN_SOAK_SNAPSHOTS } : {}),
});

/** Asks the watch for a sample and waits for the file. */
async function processSample(watch: WatchProcess, dir: string, n: number): Promise<ProcessSample> {
  watch.kill('SIGUSR2');
  return waitUntil(async () => {
    try {
      return JSON.parse(readFileSync(join(dir, `${n}.json`), 'utf8')) as ProcessSample;
    } catch {
      return undefined;
    }
  }, 10_000, `sample ${n} of mwan watch`, 20);
}

/** CPU the daemon and its children used so far: reaped children are in the c-fields, live ones are added. */
function cpuSecondsOf(sample: ProcessSample, tick: number): { self: number; children: number } {
  const t = sample.ticks;
  const live = sample.children.reduce((sum, c) => sum + c.ticks, 0);
  return { self: (t.user + t.system) / tick, children: (t.childrenUser + t.childrenSystem + live) / tick };
}

async function probeRounds(lab: Lab): Promise<number> {
  const file = JSON.parse(readFileSync(join(lab.runDir, 'health.json'), 'utf8')) as { links: { probes: number }[] };
  return file.links.reduce((sum, l) => sum + l.probes, 0);
}

/** The daemon's own counters, from its metrics endpoint in the router namespace. */
async function daemonCounters(lab: Lab): Promise<{ checks: number; reconciles: number; repairs: number; applies: number }> {
  const { stdout } = await lab.exec('router', 'curl', ['-sf', '--max-time', '10', `http://${METRICS}/metrics`]);
  const value = (name: string) => stdout.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
  return {
    checks: value('mwan_watch_checks_total'),
    reconciles: value('mwan_watch_reconciles_total'),
    repairs: value('mwan_watch_repairs_total'),
    applies: value('mwan_watch_applies_total'),
  };
}

export async function soak(ctx: BenchContext): Promise<Section> {
  if (!(await watchAvailable())) return notMeasured(TITLE, MEASURES_SHORT, 'mwan watch not available');
  const plan = ctx.quick ? QUICK : FULL;
  const tick = Number((await execa('getconf', ['CLK_TCK'])).stdout) || 100;
  const phases: CpuPhase[] = [];
  const points: SoakPoint[] = [];
  let events: Record<string, number> = {};
  await withLab(ctx, { links: 2 }, async (lab) => {
    const base = configFor(lab.links, { only: [1, 2] });
    const links = base.links.map((l, i) => ({ ...l, table: EVENT_LINK_TABLE - 1 + i }));
    const targets = [lab.serverAddress];
    try {
      // CPU: the same two links without health checks, then probed with the default settings.
      phases.push(await cpuPhase(lab, ctx, 'no health checks', await lab.writeConfig({ ...base, links }, 'soak-idle.json'), 0, plan.idleS, tick));
      phases.push(await cpuPhase(lab, ctx, 'default probes (every 0.5 s, 0.3 s timeout)', await lab.writeConfig({ ...base, links, health: { targets } }, 'soak-probing.json'), 2, plan.probingS, tick));
      const fast = await lab.writeConfig({ ...base, links, health: { targets, interval: 0.05, timeout: 0.04 } }, 'soak-fast.json');
      events = await soakPhase(lab, ctx, fast, plan, tick, points);
    } finally {
      await lab.mwan(['down']);
    }
  });
  return describe(plan, phases, points, events);
}

async function cpuPhase(lab: Lab, ctx: BenchContext, what: string, config: string, links: number, seconds: number, tick: number): Promise<CpuPhase> {
  const dir = join(lab.dir, `samples-${links}`);
  mkdirSync(dir, { recursive: true });
  const watch = await WatchProcess.start(lab, config, { env: samplerEnv(dir) });
  try {
    // Past the start-up (the first apply, node's own warm-up).
    await sleep(2000);
    const a = await processSample(watch, dir, 0);
    const probesA = await probeRounds(lab);
    await sleep(seconds * 1000);
    const b = await processSample(watch, dir, 1);
    const probesB = await probeRounds(lab);
    const [ca, cb] = [cpuSecondsOf(a, tick), cpuSecondsOf(b, tick)];
    const phase: CpuPhase = {
      what,
      links,
      seconds: (b.monotonicMs - a.monotonicMs) / 1000,
      probeRounds: probesB - probesA,
      selfSeconds: cb.self - ca.self,
      childSeconds: cb.children - ca.children,
      cpuSeconds: cb.self + cb.children - ca.self - ca.children,
    };
    ctx.log(`soak: ${what}: ${fmt(phase.cpuSeconds)} s of CPU in ${fmt(phase.seconds)} s, ${phase.probeRounds} probe rounds`);
    return phase;
  } finally {
    await watch.stop();
  }
}

/** Runs the soak, adding each sample to `points`; returns the events script's counts. */
async function soakPhase(lab: Lab, ctx: BenchContext, config: string, plan: Plan, tick: number, points: SoakPoint[]): Promise<Record<string, number>> {
  const dir = join(lab.dir, 'samples-soak');
  mkdirSync(dir, { recursive: true });
  const watch = await WatchProcess.start(lab, config, { args: ['--metrics', METRICS], env: samplerEnv(dir) });
  const link = lab.links[1];
  const generator = execa('ip', ['netns', 'exec', lab.ns.router, 'bash', join(TOOLS, 'soak-events.sh'), String(plan.maxS + 60), link.routerInterface, String(EVENT_LINK_TABLE)], { reject: false, stdin: 'ignore' });
  try {
    const started = performance.now();
    const counts0 = { ...(await daemonCounters(lab)), probes: await probeRounds(lab) };
    for (let i = 0; ; i++) {
      const last = points.at(-1);
      if (last && points.length >= plan.minSamples && (last.rounds >= plan.minRounds || last.seconds >= plan.maxS)) break;
      await sleep(Math.max(0, started + i * plan.everyS * 1000 - performance.now()));
      const sample = await processSample(watch, dir, i);
      const counts = await daemonCounters(lab);
      const probes = (await probeRounds(lab)) - counts0.probes;
      const cpu = cpuSecondsOf(sample, tick);
      const point: SoakPoint = {
        seconds: (performance.now() - started) / 1000,
        rounds: probes + counts.checks - counts0.checks,
        probeRounds: probes,
        checks: counts.checks - counts0.checks,
        reconciles: counts.reconciles - counts0.reconciles,
        repairs: counts.repairs - counts0.repairs,
        applies: counts.applies - counts0.applies,
        rssBytes: sample.rssBytes,
        heapBytes: sample.heapUsedBytes,
        codeBytes: CODE_SPACES.reduce((sum, space) => sum + (sample.heapSpaces[space] ?? 0), 0),
        openFds: sample.openFds,
        handles: Object.values(sample.resources).reduce((a, b) => a + b, 0),
        children: sample.children.filter((c) => !c.steady).length,
        quiet: sample.quiet,
        cpuSeconds: cpu.self + cpu.children,
      };
      points.push(point);
      ctx.log(`soak: ${fmt(point.seconds)} s: ${point.rounds} rounds, RSS ${fmt(point.rssBytes / 2 ** 20)} MiB, heap ${fmt(point.heapBytes / 2 ** 20)} MiB, ${point.openFds} fds, ${point.handles} handles`);
    }
    generator.kill('SIGTERM');
    const result = await generator;
    return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
  } finally {
    generator.kill('SIGTERM');
    await generator;
    await watch.stop();
  }
}

const mib = (bytes: number) => fmt(bytes / 2 ** 20);
const kib = (bytes: number) => `${fmt(bytes / 1024)} KiB`;
const count = (n: number) => n.toLocaleString('en-US');

/** The middle and the last third of the samples: the first holds the warm-up (JIT code, caches filled once). */
function thirds(points: readonly SoakPoint[]): [SoakPoint[], SoakPoint[]] {
  const n = points.length;
  return [points.slice(Math.floor(n / 3), Math.floor((2 * n) / 3)), points.slice(Math.floor((2 * n) / 3))];
}

/**
 * Growth per 10 000 rounds from the median of the middle third to that of the last: medians,
 * because a sample taken during an apply holds that apply's transient objects.
 */
function growthPer10k(middle: readonly SoakPoint[], last: readonly SoakPoint[], pick: (p: SoakPoint) => number): number {
  const rounds = median(last.map((p) => p.rounds)) - median(middle.map((p) => p.rounds));
  return ((median(last.map(pick)) - median(middle.map(pick))) / rounds) * MIN_ROUNDS;
}

const floor = (points: readonly SoakPoint[], pick: (p: SoakPoint) => number) => Math.min(...points.map(pick));
const peak = (points: readonly SoakPoint[], pick: (p: SoakPoint) => number) => Math.max(...points.map(pick));

function describe(plan: Plan, phases: CpuPhase[], points: SoakPoint[], events: Record<string, number>): Section {
  const [idle, probing] = phases;
  const first = points[0];
  const middle = points[Math.floor(points.length / 2)];
  const last = points.at(-1);
  if (!idle || !probing || !first || !middle || !last) throw new Error('soak: a phase produced no samples');
  const perLinkHour = (p: CpuPhase) => ((p.cpuSeconds / p.seconds) * HOUR_S) / Math.max(1, p.links);
  const idleRate = idle.cpuSeconds / idle.seconds;
  const probeCostPerLinkHour = ((probing.cpuSeconds / probing.seconds - idleRate) * HOUR_S) / probing.links;
  const perProbeMs = ((probing.cpuSeconds - idleRate * probing.seconds) / Math.max(1, probing.probeRounds)) * 1000;
  const [mid, end] = thirds(points);
  const objects = (p: SoakPoint) => p.heapBytes - p.codeBytes;
  const heapGrowth = growthPer10k(mid, end, (p) => p.heapBytes);
  const objectGrowth = growthPer10k(mid, end, objects);
  const codeGrowth = growthPer10k(mid, end, (p) => p.codeBytes);
  const rss = { midPeak: peak(mid, (p) => p.rssBytes), endPeak: peak(end, (p) => p.rssBytes), midFloor: floor(mid, (p) => p.rssBytes), endFloor: floor(end, (p) => p.rssBytes) };
  const fds = { mid: floor(mid, (p) => p.openFds), end: floor(end, (p) => p.openFds) };
  const handles = { mid: floor(mid, (p) => p.handles), end: floor(end, (p) => p.handles) };
  const row = (label: string, p: SoakPoint) => [
    label, fmt(p.seconds), count(p.rounds), count(p.probeRounds), count(p.checks), p.repairs, mib(p.rssBytes), mib(p.heapBytes), mib(p.codeBytes), p.openFds, p.handles,
  ];
  const eventText = Object.entries(events).map(([k, v]) => `${k} ${count(v)}`).join(', ');
  return {
    title: TITLE,
    measures:
      'A 2-link lab; the real `mwan watch` in the router namespace, with a sampler loaded into its node (`--expose-gc --import ' +
      'bench/tools/soak-sample.js`) that, on each SIGUSR2, waits (up to 0.5 s) for a moment with no probe or command running, ' +
      'collects the garbage and writes the resident set, the heap still referenced (and of it compiled code), the open ' +
      'descriptors, the libuv handles and requests, and the CPU ticks of the process and its children (from /proc). ' +
      `**Probe CPU**: the daemon without health checks (${plan.idleS} s), then with both links probed at the default settings ` +
      `(${plan.probingS} s); the CPU of the daemon and of every child it started (ping, nft, ip: reaped ones from the c-fields of ` +
      '/proc/PID/stat, live ones read directly), per link-hour. **Soak**: probes as fast as the config allows (every 0.05 s, ' +
      '0.04 s timeout) while `bench/tools/soak-events.sh` in the router namespace adds and deletes a route in a table mwan does ' +
      'not own (each an event, none a drift) and, every 40th time, changes what mwan owns, in turn: a bounce of link 2 (its ' +
      'table\'s route dropped), its route deleted, the table deleted, an ip rule deleted, ip_forward reset. A round is one probe ' +
      'round or one comparison of the kernel with the config (`mwan_watch_checks_total`), each ending in "apply or not"; a sample ' +
      `every ${plan.everyS} s${plan.minRounds ? ` until ${count(plan.minRounds)} rounds` : ''}. Growth compares the middle third of the samples with the last ` +
      'third (the first holds the warm-up): medians for memory, floors (minimums) for descriptors and handles, so what an apply ' +
      'or a probe holds at that moment does not count as growth.',
    commands: [
      `NODE_OPTIONS="--expose-gc --import bench/tools/soak-sample.js" MWAN_SOAK_SAMPLES=<dir> ip netns exec <router> mwan --run-dir <dir> watch --config <lab config> --metrics ${METRICS}`,
      `ip netns exec <router> bash bench/tools/soak-events.sh ${plan.maxS + 60} wan2 ${EVENT_LINK_TABLE}   (stopped with SIGTERM when the soak ends)`,
      'kill -USR2 <watch pid>   (a sample)',
      `ip netns exec <router> curl -sf http://${METRICS}/metrics   (mwan_watch_checks_total, _reconciles_total, _repairs_total)`,
    ],
    body: [
      table(['daemon', 'seconds', 'probe rounds', 'CPU s (daemon + children)', 'of it children', 'CPU s per link-hour'], phases.map((p) => [
        p.what, fmt(p.seconds), p.probeRounds, fmt(p.cpuSeconds), fmt(p.childSeconds), p.links ? fmt(perLinkHour(p)) : '—',
      ])),
      `Probing costs **${fmt(probeCostPerLinkHour)} CPU seconds per link-hour** at the default settings (the difference between the ` +
        `two rows, per link: ${fmt((probeCostPerLinkHour / HOUR_S) * 100)} % of one core per link, ${fmt(perProbeMs)} ms per probe round). ` +
        `The daemon without probes uses ${fmt(idleRate * HOUR_S)} CPU seconds an hour (its drift checks).`,
      table(['sample', 'seconds', 'rounds', 'probe rounds', 'checks', 'repairs', 'RSS MiB', 'heap after GC MiB', 'of it code MiB', 'open fds', 'handles'], [
        row('start', first), row('middle', middle), row('end', last),
      ]),
      table(['middle third → last third', 'middle', 'last', 'per 10 000 rounds'], [
        ['heap after GC, less compiled code (median)', mib(median(mid.map(objects))), mib(median(end.map(objects))), kib(objectGrowth)],
        ['compiled code (median)', mib(median(mid.map((p) => p.codeBytes))), mib(median(end.map((p) => p.codeBytes))), kib(codeGrowth)],
        ['heap after GC (median)', mib(median(mid.map((p) => p.heapBytes))), mib(median(end.map((p) => p.heapBytes))), kib(heapGrowth)],
        ['RSS peak / floor, MiB', `${mib(rss.midPeak)} / ${mib(rss.midFloor)}`, `${mib(rss.endPeak)} / ${mib(rss.endFloor)}`, '—'],
        ['open fds (floor)', fds.mid, fds.end, '—'],
        ['handles (floor)', handles.mid, handles.end, '—'],
      ]),
      `Events made: ${eventText || 'none reported'}; the daemon repaired ${last.repairs} times and applied ${last.applies} times ` +
        `(reconciles ${last.reconciles}). Every sample is in results.json; \`MWAN_SOAK_SNAPSHOTS=DIR\` also writes a heap snapshot ` +
        'with each sample, for finding what grows.',
    ],
    targets: [
      { what: 'soak: rounds of probes and checks', goal: `≥ ${count(MIN_ROUNDS)}`, measured: count(last.rounds), met: last.rounds >= MIN_ROUNDS },
      { what: 'soak: heap after GC less compiled code, growth per 10 000 rounds', goal: `≤ ${kib(HEAP_GOAL_BYTES)}`, measured: kib(objectGrowth), met: objectGrowth <= HEAP_GOAL_BYTES },
      { what: 'soak: RSS peak, last third over middle third', goal: `≤ +${mib(RSS_GOAL_BYTES)} MiB`, measured: `${mib(rss.midPeak)} → ${mib(rss.endPeak)} MiB`, met: rss.endPeak - rss.midPeak <= RSS_GOAL_BYTES },
      { what: 'soak: open fds and handles (floors), last third over middle third', goal: 'no more', measured: `fds ${fds.mid} → ${fds.end}, handles ${handles.mid} → ${handles.end}`, met: fds.end <= fds.mid && handles.end <= handles.mid },
      { what: 'probe CPU per link-hour, default settings', goal: 'reported', measured: `${fmt(probeCostPerLinkHour)} s`, met: undefined },
    ],
    plots: [],
    numbers: {
      rounds: last.rounds,
      'probe CPU s per link-hour': probeCostPerLinkHour,
      'heap growth bytes per 10k rounds': heapGrowth,
      'heap less code growth bytes per 10k rounds': objectGrowth,
      'open fds end': last.openFds,
    },
    raw: { plan, phases, points, events },
  };
}
