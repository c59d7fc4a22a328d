// `mwan watch --log-format json`: one JSON object per line for each event, with a real link going
// down (an nft drop on the server's end of link 2) and coming back, and a repair after a manual
// apply. Every address used lives in the lab's namespaces.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { configFor, type Lab, type TrafficServer } from '@mwan/lab';
import { createLab, leftovers, pollUntil } from './helpers.js';
import { WatchProcess } from './watch-process.js';

jest.setTimeout(90_000);

const PREFIX = 'mwe2elog';

type Event = Record<string, unknown> & { time: string; event: string; message: string };

describe('watch log lines (--log-format json)', () => {
  let lab: Lab;
  let server: TrafficServer;
  let watch: WatchProcess | undefined;
  /** Each line as the object it must be (JSON.parse throws on anything else). */
  const events = (): Event[] => (watch?.lines ?? []).map((l) => JSON.parse(l.text) as Event);

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2 });
    server = await lab.startServer({ quiet: true });
    await lab.exec('srv', 'nft', ['-f', '-'], { input: 'table inet mwanlog_drop {\n\tchain in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t}\n}\n' });
  }, 60_000);

  afterAll(async () => {
    await watch?.stop();
    server?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  const waitFor = (what: string, match: (e: Event) => boolean, timeoutMs = 10_000) =>
    pollUntil(async () => events().find(match), `${what}\n${watch?.text ?? ''}`, timeoutMs, 50);

  it('logs link state changes with their reason, applies with result and duration, and a repair, one JSON object a line', async () => {
    const config = await lab.writeConfig({ ...configFor(lab.links), health: { targets: [lab.serverAddress] } }, 'log.json');
    watch = new WatchProcess(lab, config, ['--log-format', 'json']);
    const first = await waitFor('first apply', (e) => e.event === 'apply');
    expect(first).toMatchObject({ result: 'ok', active: ['isp1', 'isp2'] });
    expect(first.durationMs).toEqual(expect.any(Number));
    expect(first.message).toBe(`applied active links isp1, isp2 in ${String(first.durationMs)} ms`);
    expect(Number.isNaN(Date.parse(first.time))).toBe(false);

    await lab.exec('srv', 'nft', ['add', 'rule', 'inet', 'mwanlog_drop', 'in', 'iifname', lab.links[1].serverInterface, 'drop']);
    const down = await waitFor('isp2 down', (e) => e.event === 'link-state' && e.to === 'down');
    expect(down).toMatchObject({ link: 'isp2', from: 'up', to: 'down', reason: 'failures', count: 3, message: expect.stringMatching(/^link isp2 down after 3 failed probes/) });
    expect(await waitFor('apply without isp2', (e) => e.event === 'apply' && (e.active as string[]).join() === 'isp1')).toMatchObject({ result: 'ok' });
    expect(await waitFor('active set', (e) => e.event === 'active' && (e.active as string[]).join() === 'isp1')).toMatchObject({ was: ['isp1', 'isp2'] });
    expect(await waitFor('flush', (e) => e.event === 'flush')).toMatchObject({ link: 'isp2', deleted: expect.any(Number) });

    await lab.exec('srv', 'nft', ['flush', 'chain', 'inet', 'mwanlog_drop', 'in']);
    expect(await waitFor('isp2 up', (e) => e.event === 'link-state' && e.to === 'up')).toMatchObject({ link: 'isp2', reason: 'successes', rttMs: expect.any(Number) });

    // A manual apply goes through the daemon, which applies it and says so.
    await lab.mwanOk(['apply', '--config', config, '--strategy', 'round-robin']);
    expect(await waitFor('client apply', (e) => e.event === 'client-apply')).toMatchObject({ config, message: expect.stringMatching(/^apply: .* applied for mwan apply \(active links isp1, isp2; strategy [a-z0-9-]+\): (table swapped in \d+ ms|table unchanged), done in \d+ ms$/), active: ['isp1', 'isp2'], durationMs: expect.any(Number) });
    watch.signal('SIGTERM');
    expect(await watch.exited).toBe(0);
    await waitFor('stop', (e) => e.event === 'message' && e.message === 'SIGTERM: stopping; the ruleset stays as it is', 2000);
    // Every line was one object (JSON.parse would have thrown otherwise), none spread over two.
    expect(events()).toHaveLength(watch.lines.length);
  });
});
