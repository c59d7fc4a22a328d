import { join } from 'node:path';
import { Lab } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { IperfServer, iperfArgs, runIperf } from '../iperf.js';
import { fmt, pairedCell, ratio, spread, table } from '../markdown.js';
import { Nginx, SMALL_FILE } from '../nginx.js';
import { bothWays, type Section, type Target } from '../report.js';
import { roundOrder } from '../schedule.js';
import { SEED_COMMAND } from '../seed.js';
import { mwan, plain, seed, type RouterSetup } from '../setups.js';
import { median, pairedRatios } from '../stats.js';
import { runWrk, wrkArgs } from '../wrk.js';

const TITLE = 'Data plane: throughput and new-connection rate';
const TARGET = 0.97;
const WRK_CONNECTIONS = 8;

/** How the setups share the machine in a round. */
type Mode = 'concurrent' | 'sequential';

interface Samples {
  connPerSecond: number[];
  connErrors: number[];
  bitsPerSecond: number[];
}

export const DATA_PLANE_SETUPS: RouterSetup[] = [
  plain,
  seed,
  mwan({ label: 'mwan round-robin', strategy: 'round-robin' }),
  mwan({ label: 'mwan weighted 1:3', strategy: 'weighted', weights: [1, 3] }),
  mwan({ label: 'mwan source-hash', strategy: 'source-hash' }),
];

interface Rig {
  setup: RouterSetup;
  lab: Lab;
  nginx: Nginx;
  iperf: IperfServer;
}

interface Plan {
  seconds: number;
  iperfSeconds: number;
  iperfOmit: number;
  rounds: Record<Mode, number>;
}

const emptySamples = (): Map<string, Samples> => new Map(DATA_PLANE_SETUPS.map((s) => [s.label, { connPerSecond: [], connErrors: [], bitsPerSecond: [] }]));

/**
 * One lab per setup, all alive at once (no reconfiguring between runs). Two ways to share the
 * noisy machine fairly: `concurrent` runs every setup's client at the same moment, so a busy
 * spell of the machine hits all of them, and each gets the CPU share its per-packet cost allows;
 * `sequential` runs them one after another, in a rotated order, in short runs.
 */
export async function dataPlane(ctx: BenchContext): Promise<Section> {
  const plan: Plan = {
    seconds: ctx.quick ? 1 : 2,
    // iperf3 runs one second longer and leaves that first second (TCP ramp-up) out; quick runs keep it short.
    iperfSeconds: ctx.quick ? 1 : 3,
    iperfOmit: ctx.quick ? 0 : 1,
    // Quick runs only show that it works: concurrent rounds alone.
    rounds: { concurrent: ctx.quick ? ctx.rounds : ctx.rounds * 3, sequential: ctx.quick ? 0 : ctx.rounds },
  };
  const samples: Record<Mode, Map<string, Samples>> = { concurrent: emptySamples(), sequential: emptySamples() };
  const rigs: Rig[] = [];
  let commands: string[];
  try {
    for (const setup of DATA_PLANE_SETUPS) {
      const lab = await Lab.create({ links: 2, rpFilter: 0, prefix: ctx.labPrefix, log: ctx.log });
      const rig = { setup, lab } as Rig;
      rigs.push(rig);
      rig.nginx = await Nginx.start(lab, { dir: join(lab.dir, 'nginx'), address: lab.serverAddress });
      rig.iperf = await IperfServer.start(lab, lab.serverAddress);
      await setup.up(lab);
    }
    const wrkOptions = (rig: Rig) => ({ url: rig.nginx.url(SMALL_FILE), seconds: plan.seconds, connections: WRK_CONNECTIONS });
    const iperfOptions = (rig: Rig) => ({ to: rig.lab.serverAddress, seconds: plan.iperfSeconds, omit: plan.iperfOmit, streams: 4 });
    commands = [
      `ip netns exec <lan> wrk ${wrkArgs(wrkOptions(rigs[0])).map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`,
      `ip netns exec <lan> iperf3 ${iperfArgs(iperfOptions(rigs[0])).join(' ')}`,
      `seed: ${SEED_COMMAND}`,
      'mwan: ip netns exec <router> mwan apply --config <lab config>',
    ];
    const wrk = async (mode: Mode, rig: Rig) => {
      const result = await runWrk(rig.lab, wrkOptions(rig));
      const s = samples[mode].get(rig.setup.label)!;
      s.connPerSecond.push(result.perSecond);
      s.connErrors.push(result.errors);
    };
    const iperf = async (mode: Mode, rig: Rig) => samples[mode].get(rig.setup.label)!.bitsPerSecond.push(await runIperf(rig.lab, iperfOptions(rig)));
    const flush = () => Promise.all(rigs.map((r) => r.lab.flushConntrack()));
    for (let round = 0; round < plan.rounds.concurrent; round++) {
      await flush();
      await Promise.all(roundOrder(rigs, round).map((rig) => wrk('concurrent', rig)));
      await Promise.all(roundOrder(rigs, round).map((rig) => iperf('concurrent', rig)));
      ctx.log(`data plane, concurrent round ${round + 1}/${plan.rounds.concurrent}: ${lastOf(samples.concurrent)}`);
    }
    for (let round = 0; round < plan.rounds.sequential; round++) {
      await flush();
      for (const rig of roundOrder(rigs, round)) await wrk('sequential', rig);
      for (const rig of roundOrder(rigs, round)) await iperf('sequential', rig);
      ctx.log(`data plane, sequential round ${round + 1}/${plan.rounds.sequential}: ${lastOf(samples.sequential)}`);
    }
  } finally {
    for (const rig of rigs) {
      rig.nginx?.stop();
      rig.iperf?.stop();
      await rig.lab.destroy();
    }
  }
  return describe(samples, plan, commands);
}

const lastOf = (samples: Map<string, Samples>): string =>
  [...samples].map(([l, s]) => `${l} ${fmt(s.connPerSecond.at(-1)!)} conn/s ${fmt(s.bitsPerSecond.at(-1)! / 1e9)} Gbit/s`).join('; ');

function rowsOf(samples: Map<string, Samples>): string[][] {
  const base = samples.get('plain')!;
  const seedSamples = samples.get('seed')!;
  return [...samples].map(([label, s]) => [
    label,
    spread(s.connPerSecond),
    pairedCell(s.connPerSecond, base.connPerSecond),
    pairedCell(s.connPerSecond, seedSamples.connPerSecond),
    spread(s.bitsPerSecond.map((b) => b / 1e9)),
    pairedCell(s.bitsPerSecond, base.bitsPerSecond),
    pairedCell(s.bitsPerSecond, seedSamples.bitsPerSecond),
    String(s.connErrors.reduce((a, b) => a + b, 0)),
  ]);
}

const HEADERS = ['setup', 'new conn/s, median (min–max)', 'vs plain [IQR]', 'vs seed [IQR]', 'iperf3 Gbit/s, median (min–max)', 'vs plain [IQR]', 'vs seed [IQR]', 'wrk errors'];

function describe(samples: Record<Mode, Map<string, Samples>>, plan: Plan, commands: string[]): Section {
  const numbers: Record<string, number> = {};
  const targets: Target[] = [];
  const modes = (['concurrent', 'sequential'] as const).filter((m) => plan.rounds[m] > 0);
  const vsPlain = (mode: Mode, label: string, metric: 'connPerSecond' | 'bitsPerSecond') =>
    median(pairedRatios(samples[mode].get(label)![metric], samples[mode].get('plain')![metric]));
  for (const label of samples.concurrent.keys()) {
    for (const mode of modes) {
      numbers[`${mode} ${label} conn/s`] = median(samples[mode].get(label)!.connPerSecond);
      numbers[`${mode} ${label} Gbit/s`] = median(samples[mode].get(label)!.bitsPerSecond) / 1e9;
    }
    if (!label.startsWith('mwan')) continue;
    for (const [metric, what] of [['connPerSecond', 'new connections'], ['bitsPerSecond', 'iperf3 throughput']] as const) {
      const concurrent = vsPlain('concurrent', label, metric);
      const sequential = plan.rounds.sequential ? vsPlain('sequential', label, metric) : undefined;
      targets.push({
        what: `data plane, ${label}: ${what} vs plain`,
        goal: `≥ ${TARGET}×`,
        measured: `${ratio(concurrent)} concurrent${sequential !== undefined ? `, ${ratio(sequential)} sequential` : ''}`,
        met: bothWays(concurrent, sequential, (r) => r >= TARGET),
      });
    }
  }
  return {
    title: TITLE,
    measures:
      'One lab with 2 unshaped veth links per setup, all alive at once. Per setup: wrk for ' +
      `${plan.seconds} s with ${WRK_CONNECTIONS} connections, every request on a new connection (\`Connection: close\`), to nginx in ` +
      `the server namespace (a 32-byte file); iperf3 with 4 parallel streams LAN → server for ${plan.iperfSeconds} s (the first ` +
      `${plan.iperfOmit} s left out). **Concurrent** (${plan.rounds.concurrent} rounds): the five setups' clients run at the same ` +
      'moment, so whatever else the machine does hits all of them alike and each gets the share of the 2 cores its per-packet ' +
      `cost allows: the ratio reads as relative efficiency. **Sequential** (${plan.rounds.sequential} rounds): one setup at a time ` +
      'with the whole machine, in an order rotated from round to round; closer to a lone router, but at the mercy of the noise. ' +
      'Ratios are medians of per-round ratios (candidate ÷ baseline of the same round), with their interquartile range. A target is ' +
      'met when both ways meet it, not met when neither does, and inconclusive when they disagree. `plain` is NAT forwarding over link 1 without balancing (one masquerade rule in the bench\'s own table); `seed` is ' +
      'the article\'s script.',
    commands,
    body: [
      '**Concurrent** (all setups at once):',
      table(HEADERS, rowsOf(samples.concurrent)),
      ...(plan.rounds.sequential ? ['**Sequential** (one setup at a time, rotated):', table(HEADERS, rowsOf(samples.sequential))] : []),
    ],
    targets,
    plots: [],
    numbers,
    raw: { concurrent: Object.fromEntries(samples.concurrent), sequential: Object.fromEntries(samples.sequential) },
  };
}
