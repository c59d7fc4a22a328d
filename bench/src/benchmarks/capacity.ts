import { join } from 'node:path';
import type { Lab } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { withLab } from '../context.js';
import { fmt, ratio, table } from '../markdown.js';
import { Nginx } from '../nginx.js';
import type { Section, Target } from '../report.js';
import { roundOrder } from '../schedule.js';
import { SEED_COMMAND } from '../seed.js';
import { mwan, plain, seed, withSetup, type RouterSetup } from '../setups.js';
import { median, summarize } from '../stats.js';
import { barChart } from '../svg.js';

const TITLE = 'Capacity use: makespan on shaped links';
const TARGET = 1.15;
const RATES_MBIT = [10, 30];
const WEIGHTS = [1, 3];
const FILE = 'payload.bin';

export const CAPACITY_SETUPS: RouterSetup[] = [
  plain,
  seed,
  mwan({ label: 'mwan round-robin', strategy: 'round-robin', weights: WEIGHTS }),
  mwan({ label: 'mwan weighted 1:3', strategy: 'weighted', weights: WEIGHTS }),
  mwan({ label: 'mwan weighted 1:3 inc', strategy: { name: 'weighted', options: { mode: 'inc' } }, weights: WEIGHTS }),
  mwan({ label: 'mwan source-hash 1:3', strategy: 'source-hash', weights: WEIGHTS }),
];

interface Samples {
  makespanMs: number[];
  /** Files fetched over each link, per run. */
  perLink: number[][];
  failed: number[];
}

export async function capacity(ctx: BenchContext): Promise<Section> {
  const clients = ctx.quick ? 4 : 8;
  const files = ctx.quick ? 8 : 32;
  const fileBytes = ctx.quick ? 64 * 1024 : 1024 * 1024;
  const totalBits = files * fileBytes * 8;
  const idealMs = (totalBits / (RATES_MBIT.reduce((a, b) => a + b, 0) * 1e6)) * 1000;
  const samples = new Map<string, Samples>(CAPACITY_SETUPS.map((s) => [s.label, { makespanMs: [], perLink: [], failed: [] }]));
  let loadLine = '';
  await withLab(ctx, { links: 2, lanAddresses: clients - 1, shaping: RATES_MBIT.map((rateMbit) => ({ rateMbit })) }, async (lab) => {
    const nginx = await Nginx.start(lab, { dir: join(lab.dir, 'nginx'), address: lab.serverAddress, files: { [FILE]: fileBytes }, accessLog: true });
    const timeoutMs = Math.ceil((totalBits / (RATES_MBIT[0] * 1e6)) * 1000 * 3) + 10_000;
    const download = () => lab.load({ to: nginx.address, port: nginx.port, mode: 'http', path: `/${FILE}`, count: files, concurrency: clients, from: lab.lanAddresses, timeoutMs, stallMs: timeoutMs });
    loadLine = `ip netns exec <lan> node packages/lab/tools/load.js --src <${clients} LAN addresses> --dst ${nginx.address} --port 80 --count ${files} --concurrency ${clients} --mode http --path /${FILE} --timeout ${timeoutMs}`;
    try {
      for (let round = 0; round < ctx.rounds; round++) {
        for (const setup of roundOrder(CAPACITY_SETUPS, round)) {
          await withSetup(lab, setup, async () => {
            nginx.clearLog();
            const report = await download();
            const s = samples.get(setup.label)!;
            s.makespanMs.push(report.failed === 0 ? report.elapsedMs : NaN);
            s.failed.push(report.failed);
            s.perLink.push(filesPerLink(lab, nginx, fileBytes));
            ctx.log(`capacity round ${round + 1}/${ctx.rounds} ${setup.label}: ${fmt(report.elapsedMs / idealMs)}× ideal, files per link ${s.perLink.at(-1)!.join(':')}`);
          });
        }
      }
    } finally {
      nginx.stop();
    }
  });
  return describe(samples, { clients, files, fileBytes, idealMs, rounds: ctx.rounds, loadLine });
}

/** Whole files each link carried, from the server's log: the source address is the link's SNAT address. */
function filesPerLink(lab: Lab, nginx: Nginx, fileBytes: number): number[] {
  const counts = lab.links.map(() => 0);
  for (const [address, bytes] of nginx.logged()) {
    const link = lab.linkBySnatAddress(address);
    if (link && bytes >= fileBytes) counts[link.index - 1]++;
  }
  return counts;
}

function describe(samples: Map<string, Samples>, o: { clients: number; files: number; fileBytes: number; idealMs: number; rounds: number; loadLine: string }): Section {
  const numbers: Record<string, number> = { 'ideal ms': o.idealMs };
  const targets: Target[] = [];
  const rows: string[][] = [];
  const bars = [];
  for (const [label, s] of samples) {
    const vsIdeal = s.makespanMs.map((m) => m / o.idealMs);
    const sum = summarize(vsIdeal);
    const split = s.perLink.map((c) => c.join(':'));
    rows.push([label, fmt(median(s.makespanMs) / 1000), `${ratio(sum.median)} (${fmt(sum.min)}–${fmt(sum.max)})`, split.join(', '), String(s.failed.reduce((a, b) => a + b, 0))]);
    numbers[`${label} makespan/ideal`] = sum.median;
    bars.push({ label: label.replace(/^mwan /, ''), value: sum.median, lo: sum.min, hi: sum.max });
    if (label === 'mwan weighted 1:3') {
      targets.push({ what: 'capacity, mwan weighted 1:3 (default mode random): makespan vs ideal', goal: `≤ ${TARGET}×`, measured: ratio(sum.median), met: sum.median <= TARGET });
    }
    if (label === 'mwan weighted 1:3 inc') {
      targets.push({ what: 'capacity, mwan weighted 1:3 (mode inc): makespan vs ideal', goal: `≤ ${TARGET}×`, measured: ratio(sum.median), met: sum.median <= TARGET });
    }
  }
  const plot = barChart({
    title: `Makespan ÷ ideal: ${o.files} × ${fmt(o.fileBytes / 1024)} KiB over ${RATES_MBIT.join(' + ')} Mbit/s`,
    yLabel: 'makespan ÷ (total bytes ÷ total capacity)',
    bars,
    reference: { y: TARGET, label: `target ${TARGET}` },
  });
  return {
    title: TITLE,
    measures:
      `A 2-link lab whose links are shaped with tbf in both directions to ${RATES_MBIT.join(' and ')} Mbit/s. ${o.clients} LAN addresses ` +
      `("clients") download ${o.files} files of ${fmt(o.fileBytes / 1024)} KiB from nginx, each on a new connection, ${o.clients} at a time ` +
      `(each client in turn). Makespan = first request to last byte; ideal = total bytes ÷ total capacity = ${fmt(o.idealMs / 1000)} s ` +
      '(payload only: headers and tbf\'s accounting of whole frames make ≈1.05× the practical floor). Files per link come from nginx\'s ' +
      `log (the source address seen is the link's SNAT address). Round-robin ignores weights; the others use 1:3. ${o.rounds} rounds, setups rotated.`,
    commands: [o.loadLine, `seed: ${SEED_COMMAND}`, 'tc qdisc add dev wanN root tbf rate {10,30}mbit burst 32kb latency 50ms  (router and server ends)'],
    body: [table(['setup', 'makespan s, median', 'vs ideal, median (min–max)', 'files per link (10:30 Mbit/s), each run', 'failed'], rows)],
    targets,
    plots: [{ file: 'capacity.svg', svg: plot, title: 'Makespan relative to the ideal' }],
    numbers,
    raw: Object.fromEntries(samples),
  };
}
