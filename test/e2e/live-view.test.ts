// `mwan status --watch` in a real terminal: tmux runs it (inside the lab's router namespace) on a
// 120×30 screen, the test sends LAN traffic and reads the screen with capture-pane, then ends it
// with `q`. Without a terminal it prints plain tables, or one JSON object per refresh.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execa } from 'execa';
import { configFor, findMwanCli, type Lab, type TrafficServer } from '@mwan/lab';
import { createLab, leftovers, pollUntil } from './helpers.js';
import { WatchProcess } from './watch-process.js';

jest.setTimeout(120_000);

const PREFIX = 'mwe2elive';
/** A tmux server of this test only (its own socket), so no other session is seen or touched. */
const SOCKET = `${PREFIX}-${process.pid}`;
const tmux = (args: readonly string[]) => execa('tmux', ['-L', SOCKET, ...args], { reject: false });
/**
 * Runs a command on the terminal it is given and writes its exit code to a file (tmux 3.3 does not
 * report it): `sh FILE EXIT_FILE COMMAND ARGS...`. A file, not `sh -c`: tmux splits its command
 * line at semicolons.
 */
const RECORD_EXIT = 'exit_file=$1; shift; "$@"; printf %s $? > "$exit_file"\n';

describe('live view (mwan status --watch)', () => {
  let lab: Lab;
  let server: TrafficServer;
  let watch: WatchProcess | undefined;
  let config: string;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2 });
    server = await lab.startServer({ quiet: true });
    config = await lab.writeConfig({ ...configFor(lab.links, { strategy: 'round-robin' }), health: { targets: [lab.serverAddress] } }, 'live.json');
    watch = new WatchProcess(lab, config);
    await watch.waitFor(/^watching /, 20_000);
  }, 60_000);

  afterAll(async () => {
    await tmux(['kill-server']);
    await watch?.stop();
    server?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  const mwanArgs = (extra: readonly string[]) => ['ip', 'netns', 'exec', lab.ns.router, process.execPath, findMwanCli(), '--run-dir', lab.runDir, 'status', '--config', config, '--watch', ...extra];

  it('redraws a terminal screen with each link\'s share, connections and rates, and ends on q', async () => {
    const exitFile = join(lab.dir, 'view.exit');
    const wrapper = join(lab.dir, 'record-exit.sh');
    await writeFile(wrapper, RECORD_EXIT);
    const started = await tmux(['new-session', '-d', '-x', '120', '-y', '30', '-s', 'view', '--', 'sh', wrapper, exitFile, ...mwanArgs([])]);
    expect({ exitCode: started.exitCode, stderr: started.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const screen = async () => (await tmux(['capture-pane', '-p', '-t', 'view'])).stdout;
    await pollUntil(async () => ((await screen()).includes('q or Ctrl-C to quit') ? true : undefined), 'the first screen', 15_000, 100);

    // 40 connections by round-robin: 20 per link, so half the new connections since the start each.
    const results = await lab.connect({ count: 40 });
    expect(results.every((r) => r.ok)).toBe(true);
    const shares = await pollUntil(async () => {
      const text = await screen();
      const rows = ['isp1', 'isp2'].map((name) => text.split('\n').find((l) => l.startsWith(`${name} `)));
      return rows.every((r) => r && / 50% /.test(r)) ? text : undefined;
    }, 'both links at 50% since the start', 10_000, 200);
    const lines = shares.split('\n');
    expect(lines[0]).toMatch(/^mwan status --watch {2}\d{4}-\d\d-\d\dT/);
    expect(lines[1]).toMatch(/^LINK +IF +TIER +STATE +NEW +SHARE +SHARE-ALL +CONNS +IN +OUT +RTT +LOSS +REASON$/);
    for (const row of lines.filter((l) => /^isp[12] /.test(l))) {
      const cells = row.split(/\s{2,}/);
      // LINK IF TIER STATE NEW SHARE SHARE-ALL CONNS IN OUT RTT LOSS REASON
      expect(cells[3]).toBe('up');
      expect(cells[6]).toBe('50%');
      expect(Number(cells[7])).toBeGreaterThanOrEqual(20);
      expect(cells[10]).toMatch(/ms$/);
      expect(cells[12]).toBe('probes answered');
    }

    // Bit rates move while a load runs.
    const load = lab.load({ durationMs: 4000, concurrency: 4 });
    const busy = await pollUntil(async () => {
      const row = (await screen()).split('\n').find((l) => l.startsWith('isp1 '));
      return row && /[\d.]+ [kMG]bit\/s/.test(row.split(/\s{2,}/)[8]) ? row : undefined;
    }, 'a bit rate on isp1 during the load', 10_000, 200);
    expect(busy).toBeDefined();
    await load;

    await tmux(['send-keys', '-t', 'view', 'q']);
    const code = await pollUntil(async () => readFile(exitFile, 'utf8').catch(() => undefined), 'the view ending on q', 5000, 100);
    expect(code).toBe('0');
    // The session ended with its only command.
    expect((await tmux(['has-session', '-t', 'view'])).exitCode).not.toBe(0);
    process.stdout.write(`screen captured under tmux:\n${shares}\n`);
  });

  it('prints plain tables without a terminal, and one JSON object per refresh with --json, until SIGINT', async () => {
    const plain = execa(mwanArgs(['--interval', '0.3'])[0], mwanArgs(['--interval', '0.3']).slice(1), { reject: false });
    const json = execa(mwanArgs(['--interval', '0.3', '--json'])[0], mwanArgs(['--interval', '0.3', '--json']).slice(1), { reject: false, buffer: false });
    const objects: Record<string, unknown>[] = [];
    createInterface({ input: json.stdout }).on('line', (line) => objects.push(JSON.parse(line) as Record<string, unknown>));
    await pollUntil(async () => (objects.length >= 3 ? true : undefined), 'three JSON refreshes', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 700));
    plain.kill('SIGINT');
    json.kill('SIGINT');
    const [p, j] = await Promise.all([plain, json]);
    expect([p.exitCode, j.exitCode]).toEqual([0, 0]);
    expect(p.stdout).not.toContain('\x1b');
    expect(p.stdout.split('\n').filter((l) => l.startsWith('LINK ')).length).toBeGreaterThanOrEqual(2);
    const last = objects.at(-1) as { links: { name: string; state: string; tier: number; connections: number }[]; intervalSeconds: number };
    expect(last.links.map((l) => [l.name, l.state, l.tier])).toEqual([['isp1', 'up', 0], ['isp2', 'up', 0]]);
    expect(last.intervalSeconds).toBeGreaterThan(0.2);
  });
});
