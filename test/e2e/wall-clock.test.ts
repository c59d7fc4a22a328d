// A wall-clock step under a running `mwan watch`: the daemon's wall clock (and only its own: the
// machine's is never touched) is stepped back an hour, forward three hours and back ten years
// while it probes two links, one of them black-holed. libfaketime, preloaded into the watch
// process, moves what it reads from CLOCK_REALTIME (Date.now(), new Date()) by the offset in a
// file the test rewrites; CLOCK_MONOTONIC is left alone (FAKETIME_DONT_FAKE_MONOTONIC), as in a
// real `date -s`. Probes are counted where they arrive, in the server namespace.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { configFor, type Lab } from '@mwan/lab';
import { readHealthFile } from '@mwan/health';
import { WatchProcess } from './watch-process.js';
import { createLab, leftovers, pollUntil } from './helpers.js';

const PREFIX = 'mwe2eclock';
const TABLE = 'mwanclk';
const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;

/** The preload library of Debian's libfaketime (scripts/setup.sh installs `faketime`). */
async function libfaketime(): Promise<string> {
  const listed = await execa('dpkg-query', ['-L', 'libfaketime'], { reject: false });
  const path = listed.stdout.split('\n').find((p) => p.endsWith('/libfaketime.so.1'));
  if (!path) throw new Error('this test needs libfaketime (apt-get install faketime; scripts/setup.sh does it as root)');
  return path;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mwan watch through wall-clock steps', () => {
  let lab: Lab;
  let watch: WatchProcess | undefined;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2 });
    // Counts echo requests per link where they arrive, before the black-hole (priority -300) drops them.
    const links = lab.links.slice(0, 2);
    await lab.exec('srv', 'nft', ['-f', '-'], {
      input: `table inet ${TABLE} {\n${links.map((l) => `\tcounter p${l.index} {}\n`).join('')}\tset dead { type ifname; }\n`
        + `\tchain count {\n\t\ttype filter hook prerouting priority -400; policy accept;\n${links.map((l) => `\t\tiifname "${l.serverInterface}" icmp type echo-request counter name p${l.index}\n`).join('')}\t}\n`
        + '\tchain blackhole {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\tiifname @dead drop\n\t}\n}\n',
    });
  }, 60_000);

  afterAll(async () => {
    await watch?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  const probes = async (): Promise<number[]> => {
    const { stdout } = await lab.exec('srv', 'nft', ['-j', 'list', 'counters', 'table', 'inet', TABLE]);
    const counters = (JSON.parse(stdout) as { nftables: { counter?: { name: string; packets: number } }[] }).nftables.flatMap((o) => (o.counter ? [o.counter] : []));
    return [1, 2].map((n) => counters.find((c) => c.name === `p${n}`)?.packets ?? 0);
  };
  /** Echo requests per link arriving over the next `ms`. */
  const probesDuring = async (ms: number): Promise<number[]> => {
    const before = await probes();
    await sleep(ms);
    const after = await probes();
    return after.map((n, i) => n - before[i]);
  };
  const blackhole = (on: boolean) => lab.exec('srv', 'nft', [on ? 'add' : 'delete', 'element', 'inet', TABLE, 'dead', `{ "${lab.links[1].serverInterface}" }`]);

  it('keeps probing every 0.5 s, rewriting health.json and failing over, whatever the wall clock does', async () => {
    const offsetFile = join(lab.dir, 'faketime-offset');
    let offset = 0;
    const step = async (ms: number) => {
      offset += ms;
      await writeFile(offsetFile, `${offset >= 0 ? '+' : ''}${offset / 1000}s\n`);
    };
    await step(0);
    const config = await lab.writeConfig({ ...configFor(lab.links, { only: [1, 2] }), health: { targets: [lab.serverAddress] } }, 'clock.json');
    watch = new WatchProcess(lab, config, ['--log-format', 'json'], {
      LD_PRELOAD: await libfaketime(),
      FAKETIME_TIMESTAMP_FILE: offsetFile,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    });
    const w = watch;
    await w.waitFor(/"message":"watching /);
    const rates: Record<string, number[]> = { before: await probesDuring(3000) };

    await blackhole(true);
    const down1 = Date.now();
    await w.waitFor(/"message":"link isp2 down after/, 3000, down1);

    // Past the writes that follow the change, so a step finds health.json written on the old time.
    await sleep(1500);
    // Each step comes right after one of link 2's probes left (it then waits its 0.3 s timeout):
    // a schedule kept on the wall clock goes wrong exactly there, stopping or bursting.
    const stepDuringProbe = async (ms: number) => {
      const [, sent] = await probes();
      await pollUntil(async () => ((await probes())[1] !== sent ? true : undefined), 'a probe of link 2', 2000, 5);
      await step(ms);
    };
    const checks: { step: string; lag: number }[] = [];
    for (const [name, ms] of [['back 1 h', -HOUR], ['forward 3 h', 3 * HOUR], ['back 10 years', -10 * YEAR]] as const) {
      await stepDuringProbe(ms);
      rates[name] = await probesDuring(3000);
      // health.json is still rewritten about every second, stamped with the stepped wall time.
      const seen = (await readHealthFile(lab.runDir))?.updated;
      const updated = await pollUntil(async () => {
        const file = await readHealthFile(lab.runDir).catch(() => null);
        return file && file.updated !== seen ? file.updated : undefined;
      }, `health.json rewritten after stepping ${name}`, 2500, 100);
      checks.push({ step: name, lag: Math.round((Date.now() - Date.parse(updated)) / HOUR) });
    }
    // The daemon saw the steps: its timestamps are the test's own clock plus the offset.
    expect(checks).toEqual([{ step: 'back 1 h', lag: 1 }, { step: 'forward 3 h', lag: -2 }, { step: 'back 10 years', lag: 10 * 365 * 24 - 2 }]);

    // Link 2 comes back, and goes down again on the same three rounds: hysteresis counts rounds, not hours.
    await blackhole(false);
    const up = Date.now();
    await w.waitFor(/"message":"link isp2 up after 3 successful probes/, 3000, up);
    await sleep(10_500);
    await blackhole(true);
    const down2 = Date.now();
    const line = await w.waitFor(/"message":"link isp2 down after/, 3000, down2);
    const logged = (JSON.parse(line.text) as { time: string }).time;
    expect(Math.round((Date.now() - Date.parse(logged)) / HOUR)).toBe(10 * 365 * 24 - 2);
    expect(w.text).not.toMatch(/"event":"internal-error"/);

    console.log(`probes per link in 3 s: ${JSON.stringify(rates)}`);
    // One probe per link every 0.5 s: 6 in 3 s (5–7 with the edges of the window), after every
    // step as before it; none paused (0) nor burst (dozens).
    for (const [name, counts] of Object.entries(rates)) {
      for (const count of counts) expect({ name, count, ok: count >= 5 && count <= 8 }).toEqual({ name, count, ok: true });
    }
    // health.json follows the change (it is written after the apply).
    await pollUntil(async () => {
      const file = await readHealthFile(lab.runDir);
      return file?.links.map((l) => `${l.name} ${l.state}`).join(', ') === 'isp1 up, isp2 down' ? true : undefined;
    }, 'health.json showing isp2 down', 2000, 50);
  }, 90_000);
});
