import { describe, expect, it } from '@jest/globals';
import { buildModel, MwanError, NoUsableLinkError, resolveHealth, splitActive, type HealthConfig } from '@mwan/core';
import { failoverLinks } from './failover-links.js';
import { Failover, RETRY_MS, type FailoverLink } from './failover.js';
import { FakeClock } from './fake-clock.js';
import type { HealthFile } from './health-file.js';
import type { FailoverEvent } from './events.js';
import type { HookRunner } from './hook.js';
import type { ProbedLink, ProbeOutcome, Prober } from './probe.js';

const link = (name: string, mark: number, priority = 0, config: HealthConfig = {}): FailoverLink => ({
  name, interface: `wan${mark}`, mark, priority, health: resolveHealth({ targets: ['172.16.1.100'] }, config),
});

/** Links answer unless listed in `dead`; an answer takes 1 ms, a loss the link's timeout. */
class SwitchProber implements Prober {
  readonly dead = new Set<string>();
  closed = 0;
  constructor(private readonly clock: FakeClock) {}
  async probe(l: ProbedLink): Promise<ProbeOutcome> {
    if (!this.dead.has(l.name)) {
      await this.clock.sleep(1);
      return { ok: true, rttMs: 1 };
    }
    await this.clock.sleep(l.health.timeout * 1000);
    return { ok: false, error: 'timeout' };
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

function setup(options: {
  failApplies?: number;
  /** What a failing apply throws (default: an nft failure). */
  failWith?: () => Error;
  appliedElsewhere?: () => Promise<boolean>;
  applying?: (clock: FakeClock) => Promise<void>;
  drift?: boolean | (() => Promise<string[]>);
} = {}) {
  const clock = new FakeClock(0);
  const prober = new SwitchProber(clock);
  const applies: { at: number; active: string[]; healthy?: string[] }[] = [];
  const flushes: number[] = [];
  const familyFlushes: string[] = [];
  const hooks: Record<string, string>[] = [];
  const log: string[] = [];
  const lineEvents: (FailoverEvent | undefined)[] = [];
  const events: FailoverEvent[] = [];
  const files: HealthFile[] = [];
  let failures = options.failApplies ?? 0;
  const hookRunner: HookRunner = {
    run: async (path, env) => {
      hooks.push({ path, ...env });
      return { exitCode: 0, output: '' };
    },
  };
  const failover = new Failover({
    clock,
    prober,
    apply: async (active, applyOptions) => {
      if (failures > 0) {
        failures--;
        throw options.failWith?.() ?? new Error('nft -f failed');
      }
      await options.applying?.(clock);
      applies.push({ at: clock.now(), active: [...active], ...(applyOptions?.healthy ? { healthy: [...applyOptions.healthy] } : {}) });
    },
    flush: async (mark, family) => {
      flushes.push(mark);
      familyFlushes.push(`${mark}${family ? ` ${family}` : ''}`);
      return 7;
    },
    hooks: hookRunner,
    log: (line, event) => {
      log.push(line);
      lineEvents.push(event);
    },
    observe: (event) => events.push(event),
    writeHealth: async (file) => {
      files.push(file);
    },
    pid: 4242,
    ...(options.drift ? { drift: typeof options.drift === 'function' ? options.drift : async () => [] } : {}),
    ...(options.appliedElsewhere ? { appliedElsewhere: options.appliedElsewhere } : {}),
  });
  /** The next `n` applies fail. */
  const failNext = (n: number) => {
    failures = n;
  };
  return { clock, prober, applies, flushes, familyFlushes, hooks, log, lineEvents, events, files, failover, failNext };
}

describe('Failover', () => {
  it('with rules that follow health, applies a change of any link\'s health with the healthy links, even outside the best tier', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2), link('lte', 3, 1)], 'c', { followHealth: true });
    expect(t.applies).toEqual([{ at: 0, active: ['isp1', 'isp2'], healthy: ['isp1', 'isp2', 'lte'] }]);
    t.prober.dead.add('lte');
    await t.clock.advance(3000);
    // The active set is the same; a rule pinned to lte needs the apply.
    expect(t.applies.map((a) => [a.active, a.healthy])).toEqual([[['isp1', 'isp2'], ['isp1', 'isp2', 'lte']], [['isp1', 'isp2'], ['isp1', 'isp2']]]);
    expect(t.log).toContain('applied active links isp1, isp2 in 0 ms');
    // lte's connections are deleted as any dead link's: the ruleset no longer gives it any.
    expect(t.flushes).toEqual([3]);
    t.prober.dead.delete('lte');
    await t.clock.advance(3000);
    expect(t.applies.at(-1)?.healthy).toEqual(['isp1', 'isp2', 'lte']);
    await t.failover.stop();
  });

  it('gives up a drift check under way for a reload or an apply from outside, which apply anyway', async () => {
    let checks = 0;
    // A check that never answers (its reads stuck): neither the reload nor the apply waits for it.
    const t = setup({ drift: () => {
      checks += 1;
      return new Promise<string[]>(() => {});
    } });
    await t.failover.start([link('isp1', 1), link('isp2', 2)], 'c');
    t.failover.kick();
    for (let i = 0; i < 5 && checks === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(checks).toBe(1);
    await t.failover.reload([link('isp1', 1), link('isp2', 2)], 'c');
    expect(t.applies).toHaveLength(2);
    t.failover.kick();
    for (let i = 0; i < 5 && checks === 1; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(checks).toBe(2);
    await t.failover.applyNow([link('isp1', 1), link('isp2', 2)], 'c', {}, async (active) => active.length);
    await t.failover.stop();
  });

  it('ends the prober\'s running probes when it stops', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1)], 'c');
    await t.clock.advance(1000);
    expect(t.prober.closed).toBe(0);
    await t.failover.stop();
    expect(t.prober.closed).toBe(1);
  });

  it('without such rules, leaves a backup link\'s health out of the applies', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('lte', 3, 1)], 'c');
    t.prober.dead.add('lte');
    await t.clock.advance(3000);
    expect(t.applies).toEqual([{ at: 0, active: ['isp1'] }]);
    await t.failover.stop();
  });

  it('judges a dual-stack link per family: its IPv6 failing moves only IPv6, and deletes only its IPv6 connections', async () => {
    const t = setup();
    const model = buildModel({
      lan: ['eth0'],
      health: { targets: ['172.16.1.100', '2001:db8:16:1::100'] },
      links: [
        { name: 'isp1', interface: 'wan1', ipv6: {} },
        { name: 'isp2', interface: 'wan2', ipv6: {} },
        { name: 'backup', interface: 'wan3', priority: 1, ipv6: {} },
      ],
    });
    const units = failoverLinks(model.links);
    expect(units.map((u) => [u.name, u.family, u.health.targets])).toEqual([
      ['isp1', 'ipv4', ['172.16.1.100']], ['isp1:ipv6', 'ipv6', ['2001:db8:16:1::100']],
      ['isp2', 'ipv4', ['172.16.1.100']], ['isp2:ipv6', 'ipv6', ['2001:db8:16:1::100']],
      ['backup', 'ipv4', ['172.16.1.100']], ['backup:ipv6', 'ipv6', ['2001:db8:16:1::100']],
    ]);
    await t.failover.start(units, '/etc/mwan/mwan.json');
    expect(t.applies.map((a) => a.active)).toEqual([['isp1', 'isp2', 'isp1:ipv6', 'isp2:ipv6']]);

    t.prober.dead.add('isp1:ipv6');
    await t.clock.advance(3000);
    expect(t.applies.map((a) => a.active).at(-1)).toEqual(['isp1', 'isp2', 'isp2:ipv6']);
    expect(t.familyFlushes).toEqual(['1 ipv6']);

    // Every IPv6 side of the best tier down: IPv6 goes to the backup tier, IPv4 stays.
    t.prober.dead.add('isp2:ipv6');
    await t.clock.advance(3000);
    expect(t.applies.map((a) => a.active).at(-1)).toEqual(['isp1', 'isp2', 'backup:ipv6']);
    expect(splitActive(t.applies.at(-1)!.active)).toEqual({ active: ['isp1', 'isp2'], active6: ['backup'] });

    // IPv4 of isp1 failing now takes isp1 out of IPv4 only, and its IPv4 connections.
    t.prober.dead.add('isp1');
    await t.clock.advance(3000);
    expect(t.applies.map((a) => a.active).at(-1)).toEqual(['isp2', 'backup:ipv6']);
    expect(t.familyFlushes).toEqual(['1 ipv6', '2 ipv6', '1 ipv4']);
    await t.failover.stop();
  });

  it('keeps a dual-stack link without IPv6 targets one unit for both families', () => {
    const model = buildModel({ lan: ['eth0'], health: { targets: ['172.16.1.100'] }, links: [{ name: 'isp1', interface: 'wan1', ipv6: {} }, { name: 'isp2', interface: 'wan2' }] });
    expect(failoverLinks(model.links).map((u) => [u.name, u.family, u.ipv6])).toEqual([['isp1', undefined, true], ['isp2', undefined, undefined]]);
  });

  it('applies the best tier at start, then fails over to the links left and back', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2), link('backup', 3, 1)], '/etc/mwan/mwan.json');
    expect(t.applies).toEqual([{ at: 0, active: ['isp1', 'isp2'] }]);
    expect(t.log).toEqual(['applied active links isp1, isp2 in 0 ms', 'active links: isp1, isp2']);

    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    expect(t.applies.map((a) => a.active)).toEqual([['isp1', 'isp2'], ['isp1']]);
    expect(t.applies[1].at).toBeLessThanOrEqual(1800);
    expect(t.flushes).toEqual([2]);
    expect(t.log.slice(2)).toEqual([
      'link isp2 down after 3 failed probes (last: timeout)',
      'applied active links isp1 in 0 ms',
      'active links: isp1 (was isp1, isp2)',
      'link isp2: deleted 7 conntrack entries',
    ]);

    t.prober.dead.delete('isp2');
    await t.clock.advance(3000);
    expect(t.applies.map((a) => a.active).at(-1)).toEqual(['isp1', 'isp2']);
    expect(t.log.at(-1)).toBe('active links: isp1, isp2 (was isp1)');
    expect(t.flushes).toEqual([2]);
    await t.failover.stop();
  });

  it('reports every step as an event: each line with its data, reconciles and applies with their duration', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2)], 'c');
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    t.failNext(1);
    t.prober.dead.delete('isp2');
    await t.clock.advance(3000 + RETRY_MS);
    await t.failover.stop();
    // Every line carries its event, and no event with a line is missing from observe.
    expect(t.lineEvents.every((e) => e !== undefined)).toBe(true);
    expect(t.events.filter((e) => e.event !== 'reconcile' && e.event !== 'check')).toEqual(t.lineEvents);
    expect(t.lineEvents[2]).toEqual({ event: 'link-state', link: 'isp2', from: 'up', to: 'down', reason: 'failures', count: 3, lastError: 'timeout' });
    expect(t.lineEvents[5]).toEqual({ event: 'flush', link: 'isp2', deleted: 7 });
    const applies = t.events.filter((e) => e.event === 'apply');
    expect(applies.map((e) => [e.result, e.active])).toEqual([['ok', ['isp1', 'isp2']], ['ok', ['isp1']], ['failed', ['isp1', 'isp2']], ['ok', ['isp1', 'isp2']]]);
    expect(applies.every((e) => e.durationMs >= 0)).toBe(true);
    // start, the failover, the failed return, its retry.
    expect(t.events.filter((e) => e.event === 'reconcile')).toHaveLength(4);
  });

  it('moves to the backup tier only when every primary is down, and flushes nothing that is up', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2), link('backup', 3, 1)], 'c');
    t.prober.dead.add('isp1');
    await t.clock.advance(3000);
    expect(t.applies.at(-1)!.active).toEqual(['isp2']);
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    expect(t.applies.at(-1)!.active).toEqual(['backup']);
    expect(t.flushes.sort()).toEqual([1, 2]);
    t.prober.dead.clear();
    await t.clock.advance(3000);
    expect(t.applies.at(-1)!.active).toEqual(['isp1', 'isp2']);
    // The backup's connections still work: kept.
    expect(t.flushes.sort()).toEqual([1, 2]);
    await t.failover.stop();
  });

  it('keeps the last set when every link is down, says so, and recovers', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2)], 'c');
    t.prober.dead.add('isp1');
    await t.clock.advance(3000);
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    expect(t.applies.map((a) => a.active)).toEqual([['isp1', 'isp2'], ['isp2']]);
    expect(t.log).toContain('all links down: keeping isp2 in use');
    expect(t.failover.status).toMatchObject({ allDown: true, applied: ['isp2'] });
    expect(t.files.at(-1)).toMatchObject({ allDown: true, active: ['isp2'] });
    // isp2 is still in the ruleset: its connections are not deleted.
    expect(t.flushes).toEqual([1]);
    t.prober.dead.delete('isp1');
    await t.clock.advance(3000);
    expect(t.applies.at(-1)!.active).toEqual(['isp1']);
    expect(t.failover.status.allDown).toBe(false);
    expect(t.flushes).toEqual([1, 2]);
    await t.failover.stop();
  });

  it('runs the hook of the link with its name and state, after the apply', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2, 0, { hook: '/usr/local/bin/on-change' })], 'c');
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    t.prober.dead.delete('isp2');
    await t.clock.advance(3000);
    await t.failover.idle();
    expect(t.hooks).toEqual([
      { path: '/usr/local/bin/on-change', MWAN_LINK: 'isp2', MWAN_STATE: 'down', MWAN_INTERFACE: 'wan2', MWAN_MARK: '2', MWAN_ACTIVE: 'isp1' },
      { path: '/usr/local/bin/on-change', MWAN_LINK: 'isp2', MWAN_STATE: 'up', MWAN_INTERFACE: 'wan2', MWAN_MARK: '2', MWAN_ACTIVE: 'isp1,isp2' },
    ]);
    await t.failover.stop();
  });

  it('does not delete connections when flushConnections is false', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2, 0, { flushConnections: false })], 'c');
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    expect(t.applies.at(-1)!.active).toEqual(['isp1']);
    expect(t.flushes).toEqual([]);
    await t.failover.stop();
  });

  it('logs a failed apply and tries again until it works', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2)], 'c');
    t.failNext(2);
    t.prober.dead.add('isp2');
    await t.clock.advance(1800 + 2 * RETRY_MS + 100);
    expect(t.log.filter((l) => l.startsWith('apply of active links isp1 failed: nft -f failed'))).toHaveLength(2);
    expect(t.applies.map((a) => a.active)).toEqual([['isp1', 'isp2'], ['isp1']]);
    // Connections of isp2 go only once the ruleset no longer selects it.
    expect(t.flushes).toEqual([2]);
    await t.failover.stop();
  });

  it('applies the active set again when someone else replaced the ruleset', async () => {
    let replaced = false;
    const t = setup({ appliedElsewhere: async () => replaced });
    await t.failover.start([link('isp1', 1), link('isp2', 2)], 'c');
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    expect(t.applies).toHaveLength(2);
    replaced = true;
    await t.clock.advance(1000);
    replaced = false;
    await t.clock.advance(2000);
    expect(t.applies.map((a) => a.active)).toEqual([['isp1', 'isp2'], ['isp1'], ['isp1']]);
    expect(t.log).toContain('the ruleset was applied by another mwan command; applying active links isp1 again');
    await t.failover.stop();
  });

  it('writes health.json, looks for a manual apply and times applies on the monotonic clock through wall-clock steps', async () => {
    const HOUR = 3_600_000;
    let checks = 0;
    let stepping = false;
    const t = setup({
      appliedElsewhere: async () => {
        checks++;
        return false;
      },
      // An apply that takes 80 ms, during which the wall clock is set back an hour.
      applying: async (clock) => {
        await clock.sleep(80);
        if (stepping) clock.stepWall(-HOUR);
      },
    });
    const starting = t.failover.start([link('isp1', 1), link('isp2', 2)], 'c');
    await t.clock.advance(3000);
    await starting;
    const counted = () => ({ files: t.files.length, checks });
    const before = counted();
    t.clock.stepWall(-HOUR);
    await t.clock.advance(5000);
    const afterBack = counted();
    t.clock.stepWall(2 * HOUR);
    await t.clock.advance(5000);
    const afterForward = counted();
    // Once a second (HEALTH_WRITE_MS) each, whatever the wall clock did: neither paused for the
    // hour nor written at every probe after the step forward.
    for (const [from, to] of [[before, afterBack], [afterBack, afterForward]] as const) {
      expect(to.files - from.files).toBeGreaterThanOrEqual(4);
      expect(to.files - from.files).toBeLessThanOrEqual(6);
      expect(to.checks - from.checks).toBeGreaterThanOrEqual(4);
      expect(to.checks - from.checks).toBeLessThanOrEqual(6);
    }
    stepping = true;
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    await t.failover.stop();
    const applies = t.events.filter((e) => e.event === 'apply');
    expect(applies.map((e) => [e.active, e.durationMs])).toEqual([[['isp1', 'isp2'], 80], [['isp1'], 80]]);
    // 16 s in all, 80 ms of it the first apply before probing started, whatever the steps did to the wall clock.
    expect(t.files.at(-1)!.links[0]).toMatchObject({ name: 'isp1', state: 'up', stateSeconds: 15.9 });
    // What a person reads is wall time, as stepped.
    expect(Date.parse(t.files.at(-1)!.updated)).toBeLessThan(t.clock.monotonic());
    expect(t.files.at(-1)!.updated).toBe(new Date(t.clock.now()).toISOString());
  });

  it('throws when the first apply fails, leaving nothing running', async () => {
    const t = setup({ failApplies: 1 });
    await expect(t.failover.start([link('isp1', 1)], 'c')).rejects.toThrow('nft -f failed');
    await t.clock.advance(10_000);
    expect(t.applies).toEqual([]);
    expect(t.clock.pending).toBe(0);
  });

  it('waits when no link can carry traffic at start: no probe until an apply works, one line, then a try on every event and every 2 s', async () => {
    // As the engine throws it: wrapped by the apply, the cause kept.
    const noLink = () => new MwanError('runtime', ['apply failed at step "check": no link can carry traffic: isp1: interface wan1 does not exist (absent)', 'nothing was changed'], {
      cause: new NoUsableLinkError('no link can carry traffic: isp1: interface wan1 does not exist (absent)'),
    });
    const t = setup({ failApplies: 3, failWith: noLink, drift: true });
    let probes = 0;
    const probe = t.prober.probe.bind(t.prober);
    t.prober.probe = async (l) => {
      probes++;
      return probe(l);
    };
    await t.failover.start([link('isp1', 1)], 'c');
    expect(t.failover.status.applied).toBeUndefined();
    expect(t.log).toEqual([expect.stringMatching(/^nothing applied yet: apply failed at step "check": no link can carry traffic: .*\(absent\); nothing was changed; waiting for a link \(on every kernel event, and every 2 s\)$/)]);
    // The retry 2 s later fails the same way: no second line.
    await t.clock.advance(RETRY_MS);
    expect(t.events.filter((e) => e.event === 'apply').map((e) => e.event === 'apply' && e.result)).toEqual(['failed', 'failed']);
    expect(t.log).toHaveLength(1);
    expect(probes).toBe(0);
    // A kernel event (the interface appeared) tries at once, not at the next retry.
    t.failover.kick();
    await t.clock.advance(1);
    expect(t.applies).toEqual([]);
    t.failover.kick();
    await t.clock.advance(1);
    expect(t.applies.map((a) => a.active)).toEqual([['isp1']]);
    expect(t.log.at(-1)).toBe('active links: isp1');
    await t.clock.advance(2000);
    expect(probes).toBeGreaterThanOrEqual(4);
    await t.failover.stop();
    expect(t.clock.pending).toBe(0);
  });

  it('still throws when the first apply fails for another reason', async () => {
    const t = setup({ failApplies: 1, failWith: () => new MwanError('runtime', 'apply failed at step "nft": nft -f failed'), drift: true });
    await expect(t.failover.start([link('isp1', 1)], 'c')).rejects.toThrow('nft -f failed');
    await t.clock.advance(10_000);
    expect(t.applies).toEqual([]);
    expect(t.clock.pending).toBe(0);
  });

  it('applies again on reload, keeping the health of links that stay', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2)], 'c');
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    await t.failover.reload([link('isp1', 1, 0, { interval: 1 }), link('isp2', 2), link('isp3', 3)], 'c');
    expect(t.applies.map((a) => a.active)).toEqual([['isp1', 'isp2'], ['isp1'], ['isp1', 'isp3']]);
    expect(t.failover.status.states).toEqual({ isp1: 'up', isp2: 'down', isp3: 'up' });
    await t.failover.stop();
  });

  it('re-applies a few times, not a hundred, for a link flapping every 0.3 s', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2)], 'c');
    for (let i = 0; i < 100; i++) {
      if (i % 2 === 0) t.prober.dead.add('isp2');
      else t.prober.dead.delete('isp2');
      await t.clock.advance(300);
    }
    expect(t.applies.length - 1).toBeGreaterThan(0);
    expect(t.applies.length - 1).toBeLessThanOrEqual(3);
    expect(t.failover.status.applied).toEqual(['isp1']);
    await t.failover.stop();
  });

  it('writes health.json with each link\'s state, RTT and loss', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2), link('spare', 3, 1, { enabled: false })], '/etc/mwan/mwan.json');
    t.prober.dead.add('isp2');
    await t.clock.advance(2000);
    await t.failover.stop();
    const file = t.files.at(-1)!;
    expect(file).toMatchObject({ version: 1, pid: 4242, config: '/etc/mwan/mwan.json', active: ['isp1'], allDown: false, stopped: new Date(2000).toISOString() });
    expect(t.files.filter((f) => f.stopped)).toHaveLength(1);
    expect(file.links).toEqual([
      { name: 'isp1', interface: 'wan1', mark: 1, priority: 0, checked: true, state: 'up', since: new Date(0).toISOString(), stateSeconds: 2, rttMs: 1, lossPercent: 0, probes: 4 },
      // Answered at 0 ms (before it died), then lost at 500, 1000 and 1500 ms: down at 1800 ms.
      expect.objectContaining({ name: 'isp2', state: 'down', since: new Date(1800).toISOString(), stateSeconds: 0.2, rttMs: 1, lossPercent: 75, probes: 4, lastError: 'timeout' }),
      expect.objectContaining({ name: 'spare', checked: false, state: 'up', probes: 0, lossPercent: null }),
    ]);
  });
  it('applies a client\'s apply in turn, with the healthy links only; a failed one keeps the links it had and is not retried', async () => {
    const t = setup();
    await t.failover.start([link('isp1', 1), link('isp2', 2)], 'a.json');
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    expect(t.failover.status.applied).toEqual(['isp1']);
    const asked: string[][] = [];
    const result = await t.failover.applyNow([link('isp1', 1), link('isp2', 2), link('isp3', 3)], 'b.json', {}, async (active) => {
      asked.push([...active]);
      return 'report';
    });
    expect(result).toBe('report');
    // isp2 keeps its health (down); the new isp3 counts as up until probed.
    expect(asked).toEqual([['isp1', 'isp3']]);
    expect(t.failover.status.applied).toEqual(['isp1', 'isp3']);
    expect(t.failover.healthFile().config).toBe('b.json');

    const applies = t.applies.length;
    await expect(t.failover.applyNow([link('isp1', 1)], 'c.json', {}, () => Promise.reject(new Error('nft -f failed')))).rejects.toThrow('nft -f failed');
    expect(t.failover.healthFile().config).toBe('b.json');
    expect(t.failover.status.applied).toEqual(['isp1', 'isp3']);
    await t.clock.advance(2 * RETRY_MS);
    expect(t.applies).toHaveLength(applies);
    await t.failover.stop();
  });

  it('applies and repairs nothing after a client\'s down until the next apply or reload, while probing goes on', async () => {
    const t = setup();
    const links = [link('isp1', 1), link('isp2', 2)];
    await t.failover.start(links, 'a.json');
    expect(await t.failover.pauseAfter(async () => 'removed')).toBe('removed');
    expect(t.log.at(-1)).toBe('mwan down ran: nothing is applied or repaired until the next apply or SIGHUP');
    const applies = t.applies.length;
    t.prober.dead.add('isp2');
    await t.clock.advance(3000);
    expect(t.log).toContain('link isp2 down after 3 failed probes (last: timeout)');
    expect(t.applies).toHaveLength(applies);
    await t.failover.reload(links, 'a.json');
    expect(t.applies.at(-1)?.active).toEqual(['isp1']);
    await t.failover.stop();
  });
});
