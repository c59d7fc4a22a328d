import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa, type ResultPromise } from 'execa';
import { configFor, findMwanCli, type Lab, type LabLink } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { withLab } from '../context.js';
import { fmt, table } from '../markdown.js';
import { Nginx, SMALL_FILE } from '../nginx.js';
import { TOOLS } from '../paths.js';
import { sleep, waitUntil } from '../poll.js';
import { notMeasured, type Section } from '../report.js';
import { summarize } from '../stats.js';
import { WatchProcess } from '../watch-process.js';

const TITLE = 'Failover time';
const TARGET_MS = 2000;
const MEASURES = 'Median of 5 link failures: from the failure to the last new connection placed on the dead link.';
const TARGET = { what: 'failover: failure → last new connection on the dead link (median)', goal: `≤ ${TARGET_MS / 1000} s` };
/** The bench's table in the server namespace that plays the failure (a silent blackhole). */
const FAIL_TABLE = 'bench_fail';
const POLL_MS = 20;

/** `mwan watch` is the health loop; without it there is nothing to measure. */
export async function watchAvailable(): Promise<boolean> {
  const result = await execa(process.execPath, [findMwanCli(), 'watch', '--help'], { reject: false });
  return result.exitCode === 0;
}

interface Failure {
  /** From the failure to watch's "link … down" line. */
  detectedMs: number;
  /** From the failure to watch's "active links: …" line (the new map is in). */
  appliedMs: number;
  /** From the failure to the last time the dead link's new-connection counter moved. */
  lastNewMs: number;
  /** New connections the dead link still got after the failure. */
  lateConnections: number;
}

async function blackhole(lab: Lab, link: LabLink, on: boolean): Promise<void> {
  if (on) {
    const rules = `table inet ${FAIL_TABLE} {\n\tchain in {\n\t\ttype filter hook prerouting priority raw - 10; policy accept;\n\t\tiifname "${link.serverInterface}" drop\n\t}\n}\n`;
    await lab.exec('srv', 'nft', ['-f', '-'], { input: rules });
  } else {
    await lab.exec('srv', 'nft', ['delete', 'table', 'inet', FAIL_TABLE], { reject: false });
  }
}

async function newConnections(lab: Lab, link: LabLink): Promise<number> {
  return lab.counterOf(link, await lab.nftCounters())?.packets ?? 0;
}

export async function failover(ctx: BenchContext): Promise<Section> {
  if (!(await watchAvailable())) return notMeasured(TITLE, MEASURES, 'mwan watch not available', TARGET);
  const failures = ctx.quick ? 1 : 5;
  const results: Failure[] = [];
  let paceLine = '';
  await withLab(ctx, { links: 2 }, async (lab) => {
    const nginx = await Nginx.start(lab, { dir: join(lab.dir, 'nginx'), address: lab.serverAddress });
    const config = await lab.writeConfig({ ...configFor(lab.links, { strategy: 'round-robin', snat: 'address' }), health: { targets: [lab.serverAddress] } }, 'mwan-watch.json');
    const dead = lab.links[1];
    const watch = await WatchProcess.start(lab, config);
    // Long enough for every failure and recovery; stopped as soon as the last one is done.
    const paceMs = (failures * 20 + 10) * 1000;
    paceLine = `ip netns exec <lan> node bench/tools/pace.js --dst ${nginx.address} --port 80 --every 5 --duration ${paceMs} --timeout 3000`;
    let pace: ResultPromise | undefined;
    try {
      // 200 new connections a second whatever happens to them: every 10 ms one for each link.
      pace = execa('ip', ['netns', 'exec', lab.ns.lan, process.execPath, join(TOOLS, 'pace.js'), '--dst', nginx.address, '--port', String(nginx.port),
        '--every', '5', '--duration', String(paceMs), '--timeout', '3000', '--path', `/${SMALL_FILE}`], { reject: false, stdin: 'ignore' });
      await waitUntil(async () => ((await newConnections(lab, dead)) > 20 ? true : undefined), 10_000, 'connections on the link to fail');
      for (let i = 0; i < failures; i++) {
        results.push(await failOnce(lab, dead, watch));
        ctx.log(`failover ${i + 1}/${failures}: detected ${fmt(results.at(-1)!.detectedMs)} ms, last new connection on the dead link ${fmt(results.at(-1)!.lastNewMs)} ms`);
        await blackhole(lab, dead, false);
        // Back in the map (watch's "active links" line), and new connections on it again, before the next failure.
        const restored = performance.now();
        await waitUntil(async () => watch.find(restored, new RegExp(`^active links: .*\\b${dead.name}\\b`)), 15_000, 'link back in use');
        const before = await newConnections(lab, dead);
        await waitUntil(async () => ((await newConnections(lab, dead)) > before + 20 ? true : undefined), 10_000, 'new connections on the restored link');
        await sleep(500);
      }
    } finally {
      pace?.kill('SIGTERM');
      await blackhole(lab, dead, false);
      await watch.stop();
      nginx.stop();
      await lab.mwan(['down']);
    }
  });
  return describe(results, paceLine);
}

/** One failure: blackhole the link at the server end, then watch the counters until it is out of the map. */
async function failOnce(lab: Lab, dead: LabLink, watch: WatchProcess): Promise<Failure> {
  const start = await newConnections(lab, dead);
  const failedAt = performance.now();
  await blackhole(lab, dead, true);
  // Every apply loads a new table, whose counters start at 0: count increases only.
  let last = { at: failedAt, value: start };
  let late = 0;
  let quietSince: number | undefined;
  const deadline = failedAt + 15_000;
  for (;;) {
    const value = await newConnections(lab, dead);
    const now = performance.now();
    if (value > last.value) {
      late += value - last.value;
      last = { at: now, value };
      quietSince = undefined;
    } else if (value < last.value) {
      last = { at: last.at, value };
    }
    const applied = watch.find(failedAt, /^active links:/);
    if (applied) quietSince ??= now;
    // Done once the new map is in and the counter has stayed still for a second after that.
    if (applied && quietSince !== undefined && now - quietSince > 1000 && now - last.at > 1000) break;
    if (now > deadline) throw new Error(`link ${dead.name} still got new connections ${fmt((now - failedAt) / 1000)} s after it failed`);
    await sleep(POLL_MS);
  }
  const detected = watch.find(failedAt, new RegExp(`^link ${dead.name} down`));
  const applied = watch.find(failedAt, /^active links:/);
  return {
    detectedMs: detected ? detected.at - failedAt : NaN,
    appliedMs: applied ? applied.at - failedAt : NaN,
    lastNewMs: last.at - failedAt,
    lateConnections: late,
  };
}

function describe(results: Failure[], paceLine: string): Section {
  const row = (what: string, values: number[]) => {
    const s = summarize(values);
    return [what, fmt(s.median), `${fmt(s.min)}–${fmt(s.max)}`, values.map((v) => fmt(v)).join(', ')];
  };
  const lastNew = summarize(results.map((r) => r.lastNewMs));
  return {
    title: TITLE,
    measures:
      `A 2-link lab with \`mwan watch\` running in the router namespace (round-robin, health checks to ${'the server address'} with the ` +
      'default settings: a probe every 0.5 s, 0.3 s timeout, down after 3 failures). The LAN host opens 200 new connections a ' +
      'second, open loop. A failure is a silent blackhole: the server end of link 2 drops everything it receives (carrier stays ' +
      `up). The bench polls mwan's per-link new-connection counter every ${POLL_MS} ms and reads watch's log lines as they arrive. ` +
      `${results.length} failures, the link restored (and seen up and in use again) between them.`,
    commands: [
      'ip netns exec <router> mwan --run-dir <dir> watch --config <lab config with health.targets>',
      paceLine,
      `ip netns exec <srv> nft -f -   (table inet ${FAIL_TABLE}: prerouting iifname "link2" drop)`,
      'ip netns exec <router> nft -j list counters table inet mwan   (every 20 ms)',
    ],
    body: [
      table(['from the failure to', 'median ms', 'min–max ms', 'each failure, ms'], [
        row('`link isp2 down` logged (detection)', results.map((r) => r.detectedMs)),
        row('`active links: isp1` logged (new map loaded)', results.map((r) => r.appliedMs)),
        row('last new connection on the dead link', results.map((r) => r.lastNewMs)),
        row('from detection to the last new connection on the dead link', results.map((r) => r.lastNewMs - r.detectedMs)),
        row('new connections the dead link got after the failure (count)', results.map((r) => r.lateConnections)),
      ]),
    ],
    targets: [{ ...TARGET, measured: `${fmt(lastNew.median)} ms`, met: lastNew.median <= TARGET_MS }],
    plots: [],
    numbers: {
      'detected ms': summarize(results.map((r) => r.detectedMs)).median,
      'applied ms': summarize(results.map((r) => r.appliedMs)).median,
      'last new connection ms': lastNew.median,
    },
    raw: results,
  };
}
