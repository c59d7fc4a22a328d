// Prometheus metrics with a real scraper: `mwan watch --metrics 127.0.0.1:PORT` runs in the lab's
// router namespace, and a real Prometheus server (Debian's `prometheus`) runs in the same
// namespace, on its loopback, scraping it every second. The test sends LAN connections and asks
// Prometheus's HTTP API for the series. Nothing listens or connects outside the lab's namespaces.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { configFor, findMwanCli, type Lab, type TrafficServer } from '@mwan/lab';
import { createLab, leftovers, pollUntil, splitBySnat } from './helpers.js';

jest.setTimeout(120_000);

const PREFIX = 'mwe2emetrics';
const METRICS_PORT = 9567;
const PROMETHEUS_PORT = 19090;
const STREAM = { buffer: false, reject: false, stdin: 'ignore' } as const;

/** An HTTP GET from inside the router namespace (where both servers listen on loopback). */
async function get(lab: Lab, url: string): Promise<{ status: number; body: string }> {
  const script = 'const r = await fetch(process.argv[1]); process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() }));';
  const { stdout } = await lab.exec('router', process.execPath, ['--input-type=module', '-e', script, url]);
  return JSON.parse(stdout) as { status: number; body: string };
}

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query through Prometheus's HTTP API. */
async function query(lab: Lab, promql: string): Promise<Series[]> {
  const { status, body } = await get(lab, `http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(promql)}`);
  if (status !== 200) throw new Error(`prometheus answered ${status}: ${body}`);
  return (JSON.parse(body) as { data: { result: Series[] } }).data.result;
}

const byLink = (series: Series[]) => Object.fromEntries(series.map((s) => [s.metric.link, Number(s.value[1])]));

describe('Prometheus metrics (mwan watch --metrics, mwan metrics)', () => {
  let lab: Lab;
  let server: TrafficServer;
  let watch: ResultPromise<typeof STREAM> | undefined;
  let prometheus: ResultPromise<typeof STREAM> | undefined;
  const lines: string[] = [];
  let config: string;

  async function writeConfig(weights: number[]): Promise<void> {
    const base = configFor(lab.links, { strategy: { name: 'weighted', options: { mode: 'inc' } }, weights });
    config = await lab.writeConfig({ ...base, health: { targets: [lab.serverAddress] } }, 'metrics.json');
  }

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2 });
    server = await lab.startServer();
    await writeConfig([1, 1]);
    watch = execa('ip', ['netns', 'exec', lab.ns.router, process.execPath, findMwanCli(), '--run-dir', lab.runDir, 'watch', '--config', config, '--metrics', `127.0.0.1:${METRICS_PORT}`], STREAM);
    createInterface({ input: watch.stdout }).on('line', (line) => lines.push(line));
    await pollUntil(async () => (lines.some((l) => l.startsWith('metrics: http://127.0.0.1:9567/metrics')) ? true : undefined), `mwan watch --metrics starting: ${lines.join('\n')}`, 20_000);

    const dir = join(lab.dir, 'prometheus');
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: mwan',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${METRICS_PORT}']`,
      '',
    ].join('\n'));
    prometheus = execa('ip', ['netns', 'exec', lab.ns.router, 'prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`, '--log.level=warn'], STREAM);
    await pollUntil(async () => ((await get(lab, `http://127.0.0.1:${PROMETHEUS_PORT}/-/ready`)).status === 200 ? true : undefined), 'prometheus ready', 30_000, 200);
  }, 90_000);

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    watch?.kill('SIGKILL');
    await Promise.allSettled([prometheus, watch]);
    server?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  it('serves text that promtool accepts, with every per-link and daemon family', async () => {
    const { status, body } = await get(lab, `http://127.0.0.1:${METRICS_PORT}/metrics`);
    expect(status).toBe(200);
    const check = await execa('promtool', ['check', 'metrics'], { input: body, reject: false });
    expect({ exitCode: check.exitCode, output: `${check.stdout}${check.stderr}` }).toEqual({ exitCode: 0, output: '' });
    for (const family of ['mwan_link_new_connections_total', 'mwan_link_receive_bytes_total', 'mwan_link_transmit_packets_total', 'mwan_link_conntrack_entries',
      'mwan_link_up', 'mwan_link_probe_rtt_seconds', 'mwan_link_probe_loss_ratio', 'mwan_link_state_seconds', 'mwan_watch_reconciles_total', 'mwan_watch_applies_total']) {
      expect(body).toMatch(new RegExp(`^${family}[{ ]`, 'm'));
    }
    expect(body).toContain(`mwan_link_up{link="isp1",interface="${lab.links[0].routerInterface}",tier="0"} 1`);
    expect((await get(lab, `http://127.0.0.1:${METRICS_PORT}/other`)).status).toBe(404);
  });

  it('counts the connections sent per link, through Prometheus, and keeps counting across a table swap', async () => {
    const base = byLink(await pollUntil(async () => {
      const series = await query(lab, 'mwan_link_new_connections_total');
      return series.length === 2 ? series : undefined;
    }, 'prometheus scraping mwan_link_new_connections_total', 15_000, 250));
    expect(base).toEqual({ isp1: 0, isp2: 0 });

    const first = await lab.connect({ count: 40 });
    expect(first.every((r) => r.ok)).toBe(true);
    const split1 = splitBySnat(lab, first.map((r) => r.seen?.src));
    expect(split1).toEqual({ isp1: 20, isp2: 20 });
    await pollUntil(async () => {
      const now = byLink(await query(lab, 'mwan_link_new_connections_total'));
      return now.isp1 === 20 && now.isp2 === 20 ? now : undefined;
    }, 'mwan_link_new_connections_total reaching 20/20', 10_000, 250);
    // The connections ended (TIME_WAIT) but are still in conntrack with their link's mark.
    const entries = byLink(await query(lab, 'mwan_link_conntrack_entries'));
    const marks = await lab.conntrack();
    expect(entries).toEqual({ isp1: marks.filter((e) => e.mark === 1).length, isp2: marks.filter((e) => e.mark === 2).length });
    expect(entries.isp1).toBeGreaterThanOrEqual(20);

    // New weights: the daemon loads a new table (its counters start at 0), the series go on.
    const applies = Number((await query(lab, 'mwan_watch_applies_total{result="ok"}'))[0].value[1]);
    await writeConfig([1, 3]);
    watch?.kill('SIGHUP');
    await pollUntil(async () => (lines.some((l) => l.startsWith('SIGHUP: reloaded')) ? true : undefined), 'reload', 10_000);
    const counters = await lab.nftCounters();
    expect(counters.isp1?.packets).toBe(0);

    const second = await lab.connect({ count: 40 });
    expect(second.every((r) => r.ok)).toBe(true);
    const split2 = splitBySnat(lab, second.map((r) => r.seen?.src));
    expect(split2).toEqual({ isp1: 10, isp2: 30 });
    const total = await pollUntil(async () => {
      const now = byLink(await query(lab, 'mwan_link_new_connections_total'));
      return now.isp1 === 30 && now.isp2 === 50 ? now : undefined;
    }, 'mwan_link_new_connections_total reaching 30/50 across the swap', 10_000, 250);
    expect(total).toEqual({ isp1: split1.isp1 + split2.isp1, isp2: split1.isp2 + split2.isp2 });
    // Never went backwards: no reset seen by Prometheus in the whole window.
    expect(byLink(await query(lab, 'resets(mwan_link_new_connections_total[5m])'))).toEqual({ isp1: 0, isp2: 0 });
    expect(Number((await query(lab, 'mwan_watch_applies_total{result="ok"}'))[0].value[1])).toBeGreaterThan(applies);
    expect(Number((await query(lab, 'mwan_watch_last_apply_duration_seconds'))[0].value[1])).toBeGreaterThan(0);

    // Bytes each way come from the link interfaces: at least the connections' own bytes.
    const txBytes = byLink(await query(lab, 'mwan_link_transmit_bytes_total'));
    const rxBytes = byLink(await query(lab, 'mwan_link_receive_bytes_total'));
    for (const link of ['isp1', 'isp2']) {
      expect(txBytes[link]).toBeGreaterThan(30 * 60);
      expect(rxBytes[link]).toBeGreaterThan(30 * 60);
    }
    const rtt = byLink(await query(lab, 'mwan_link_probe_rtt_seconds'));
    expect(rtt.isp1).toBeGreaterThan(0);
    expect(rtt.isp1).toBeLessThan(0.5);

    // `mwan metrics` prints the same series once, with the daemon's offsets.
    const once = await lab.mwanOk(['metrics', '--config', config]);
    expect(once.stdout).toContain(`mwan_link_new_connections_total{link="isp1",interface="${lab.links[0].routerInterface}",tier="0"} 30\n`);
    expect(once.stdout).toContain(`mwan_link_new_connections_total{link="isp2",interface="${lab.links[1].routerInterface}",tier="0"} 50\n`);
    expect(once.stdout).toMatch(/^mwan_watch_applies_total\{result="ok"\} \d+$/m);
    // (execa strips the last newline of what it captured.)
    const checked = await execa('promtool', ['check', 'metrics'], { input: `${once.stdout}\n`, reject: false });
    expect({ exitCode: checked.exitCode, output: `${checked.stdout}${checked.stderr}` }).toEqual({ exitCode: 0, output: '' });
  });

  it('mwan metrics alone carries on from the daemon\'s counters, across a table swap by mwan apply', async () => {
    watch?.kill('SIGTERM');
    await watch;
    const newConnections = async () => {
      const { stdout } = await lab.mwanOk(['metrics', '--config', config]);
      return Object.fromEntries([...stdout.matchAll(/^mwan_link_new_connections_total\{link="(\w+)"[^}]*\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    };
    expect(await newConnections()).toEqual({ isp1: 30, isp2: 50 });
    // A new table: its counters start at 0, the printed ones do not.
    await lab.mwanOk(['apply', '--config', config, '--strategy', 'round-robin']);
    expect((await lab.nftCounters()).isp1?.packets).toBe(0);
    expect(await newConnections()).toEqual({ isp1: 30, isp2: 50 });
    const more = await lab.connect({ count: 4 });
    expect(splitBySnat(lab, more.map((r) => r.seen?.src))).toEqual({ isp1: 2, isp2: 2 });
    expect(await newConnections()).toEqual({ isp1: 32, isp2: 52 });
    // Without a running daemon: no daemon counters, no health.
    const { stdout } = await lab.mwanOk(['metrics', '--config', config]);
    expect(stdout).not.toContain('mwan_watch_');
    expect(stdout).not.toContain('mwan_link_up');
  });
});
