import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKernel, RecordingRunner, type FakeKernelOptions, type SysctlStore } from '@mwan/iproute2';
import { createEngines } from './engines.js';
import type { ApplyRequest } from './apply-engine.js';
import { KernelCache } from './kernel-cache.js';
import { journalPath, lockPath, statePath } from './run-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-apply-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

const link = (n: number, extra: object = {}) => ({ name: `isp${n}`, interface: `eth${n}`, gateway: `10.37.${n}.1`, ...extra });

function configFile(links: object[], strategy: unknown = 'round-robin'): string {
  const path = join(tmp, `config-${++counter}.json`);
  writeFileSync(path, JSON.stringify({ lan: ['eth0'], links, strategy }));
  return path;
}

/** A fake router, the engine wired to it, and a run dir of its own. */
function router(options: FakeKernelOptions = {}, sysctls?: (kernel: FakeKernel) => SysctlStore) {
  const kernel = new FakeKernel(options);
  const runner = new RecordingRunner(kernel.respond);
  kernel.recorder = runner;
  const runDir = join(tmp, `run-${++counter}`);
  const engine = createEngines({ runner, sysctls: sysctls ? sysctls(kernel) : kernel }).apply;
  const apply = (configPath: string, extra: Partial<ApplyRequest> = {}) => engine.apply({ configPath, runDir, waitSeconds: 0, ...extra });
  // Rules of one priority may come back in another order after a rollback: the kernel keeps
  // them in insertion order, and they select disjoint marks, so order among them is immaterial.
  const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
  const snapshot = () => structuredClone({ rules: [...kernel.rules].sort(byJson), routes: [...kernel.routes].sort(byJson), table: kernel.table, sysctls: [...kernel.sysctls] });
  return { kernel, runner, runDir, apply, snapshot, engine };
}

const THREE = () => configFile([link(1), link(2), link(3)]);
const TWO = () => configFile([link(1), link(3)]);

describe('apply', () => {
  it('adds routes, then rules, swaps the table, then removes stale rules, routes and connections, then sets sysctls', async () => {
    const r = router({ conntrack: { 2: 4 } });
    await r.apply(THREE());
    r.runner.calls.length = 0;
    const report = await r.apply(configFile([link(1), link(3), link(4)]));
    const changes = r.runner.commandLines.filter((l) => !/^ip (-[46] )?(-N )?-json|^nft list|^nft -c/.test(l));
    expect(changes).toEqual([
      'ip route replace default via 10.37.4.1 dev eth4 table 1002 proto 109',
      'nft -f -',
      'conntrack -D -m 2/255',
    ]);
    expect(report.conntrackDeleted).toEqual({ '0x2': 4 });
    // isp4 took the free mark 2, so isp2's connections had to go, but rules stay put.
    expect(r.kernel.rules.filter((rule) => rule.fwmark).map((rule) => `${rule.fwmark}->${rule.table}`)).toEqual(['0x1->1001', '0x2->1002', '0x3->1003']);
  });

  it('orders every kind of change: routes, rules, nft, stale rules, stale routes, conntrack, sysctls', async () => {
    const r = router();
    await r.apply(THREE());
    const kinds = (lines: string[]) => lines.map((l) => l.replace(/^(ip (?:route|rule) \w+|nft -f -|conntrack -D|\[sysctl\]).*$/, '$1'));
    r.runner.calls.length = 0;
    const before = r.runner.transcript.length;
    await r.apply(configFile([link(1), link(5, { mark: 9 })]));
    const lines = unbatch(r.runner.transcript.slice(before)).split('\n').filter((l) => /^\[call\] (ip route|ip rule|nft -f|conntrack)|^\[sysctl\]/.test(l)).map((l) => l.replace('[call] ', ''));
    expect([...new Set(kinds(lines))]).toEqual(['ip route replace', 'ip rule add', 'nft -f -', 'ip rule del', 'ip route del', 'conntrack -D', '[sysctl]']);
  });

  it('is idempotent: a second apply changes nothing and leaves one rule per link', async () => {
    const r = router();
    const config = THREE();
    await r.apply(config);
    const before = r.snapshot();
    r.runner.calls.length = 0;
    const report = await r.apply(config);
    expect(report.actions).toEqual([]);
    expect(report.nftLoaded).toBe(false);
    expect(r.runner.commandLines.filter((l) => !/^ip (-[46] )?(-N )?-json|^nft list|^nft -c/.test(l))).toEqual([]);
    expect(r.snapshot()).toEqual(before);
    expect(r.kernel.rules.filter((rule) => rule.protocol === '109' && rule.fwmark).length).toBe(3);
  });

  it('reloads the table when it was changed behind its back', async () => {
    const r = router();
    const config = THREE();
    await r.apply(config);
    r.kernel.table = 'table inet mwan {\n\tchain prerouting {\n\t}\n}\n';
    expect((await r.apply(config)).nftLoaded).toBe(true);
  });

  it('keeps the marks of links that stay when links are added, removed or reordered', async () => {
    const r = router();
    await r.apply(THREE());
    const report = await r.apply(configFile([link(7), link(3), link(1)]));
    expect(Object.fromEntries(report.links.map((l) => [l.name, l.mark]))).toEqual({ isp7: 2, isp3: 3, isp1: 1 });
  });

  it('keeps the connections of removed links with keepConnections', async () => {
    const r = router({ conntrack: { 2: 4 } });
    await r.apply(THREE());
    await r.apply(TWO(), { keepConnections: true });
    expect(r.runner.commandLines.some((l) => l.startsWith('conntrack -D'))).toBe(false);
    expect(r.kernel.conntrack.get(2)).toBe(4);
  });

  it('records previous sysctl values once and puts back those no longer wanted', async () => {
    const r = router({ sysctls: { 'net/ipv4/ip_forward': '0', 'net/ipv4/conf/eth2/rp_filter': '1', 'net/ipv4/conf/eth3/rp_filter': '0' } });
    await r.apply(THREE());
    await r.apply(THREE());
    const state = JSON.parse(readFileSync(statePath(r.runDir), 'utf8')) as { sysctls: unknown[] };
    expect(state.sysctls).toEqual([
      { path: 'net/ipv4/ip_forward', value: '1', previous: '0' },
      { path: 'net/ipv4/conf/eth1/rp_filter', value: '2', previous: '1' },
      { path: 'net/ipv4/conf/eth2/rp_filter', value: '2', previous: '1' },
    ]);
    await r.apply(TWO());
    expect(r.kernel.sysctls.get('net/ipv4/conf/eth2/rp_filter')).toBe('1');
    expect(r.kernel.sysctls.get('net/ipv4/conf/eth3/rp_filter')).toBe('0');
  });

  it('checks the ruleset before the first route or rule it adds, and changes nothing when nft -c rejects it', async () => {
    const r = router();
    r.runner.on('nft -c -f -', { exitCode: 1, stderr: 'Error: Could not process rule: No such file or directory\n' });
    const before = r.snapshot();
    await expect(r.apply(THREE())).rejects.toMatchObject({ code: 'runtime', problems: [expect.stringContaining('apply failed at step "check": nft rejected the ruleset'), 'nothing was changed'] });
    expect(r.runner.commandLines.filter((l) => !/^nft (-c|list)|^ip (-[46] )?(-N )?-json/.test(l))).toEqual([]);
    expect(r.snapshot()).toEqual(before);
    expect(existsSync(lockPath(r.runDir))).toBe(false);
    expect(existsSync(journalPath(r.runDir))).toBe(false);
  });

  it('lets the load be the check when nothing is added before it: a refused table changes nothing', async () => {
    const r = router();
    await r.apply(THREE());
    const before = r.snapshot();
    r.runner.calls.length = 0;
    r.runner.on('nft -f -', { exitCode: 1, stderr: 'Error: Could not process rule: No such file or directory\n' });
    await expect(r.apply(THREE(), { strategy: 'weighted' })).rejects.toMatchObject({
      code: 'runtime', problems: [expect.stringContaining('apply failed at step "check": nft rejected the ruleset:\nError: Could not process rule'), 'nothing was changed'],
    });
    // One transaction, refused: no nft -c before it, and no reload of the old table after it.
    expect(r.runner.commandLines.filter((l) => l.startsWith('nft -'))).toEqual(['nft -f -']);
    expect(r.snapshot()).toEqual(before);
    expect(existsSync(journalPath(r.runDir))).toBe(false);
  });

  it('starts from the daemon\'s last read while no event came since, and keeps what it left when it changed no rule or route', async () => {
    const r = router();
    const cache = new KernelCache();
    await r.apply(THREE(), { kernelCache: cache });
    // The apply added rules and routes: what it read before is gone, and it keeps nothing.
    expect(cache.get()).toBeUndefined();
    // A drift check reads afresh and keeps that read.
    expect((await r.engine.drift({ configPath: THREE(), runDir: r.runDir, kernelCache: cache })).changes).toEqual([]);
    expect(cache.get()).toBeDefined();
    r.runner.calls.length = 0;
    await r.apply(THREE(), { strategy: 'weighted', kernelCache: cache });
    // No read of the kernel before the swap: nft -f, then the listing of what it loaded.
    expect(r.runner.commandLines).toEqual(['nft -f -', 'nft list table inet mwan']);
    expect(r.kernel.table).toContain('numgen random');
    // Only the table changed: the listing after the swap, with the rules and routes as read, is kept.
    expect(cache.get()?.table).toBe(r.kernel.table);
    expect(cache.get()?.table).toContain('numgen random');
    r.runner.calls.length = 0;
    await r.apply(THREE(), { strategy: 'round-robin', kernelCache: cache });
    expect(r.runner.commandLines).toEqual(['nft -f -', 'nft list table inet mwan']);
    expect(r.kernel.table).toContain('numgen inc');
  });

  it('keeps nothing when an event came after the view it decided on was got, before its first change', async () => {
    const r = router();
    const cache = new KernelCache();
    await r.apply(THREE());
    await r.engine.drift({ configPath: THREE(), runDir: r.runDir, kernelCache: cache });
    // The kept view is taken, then an event says the kernel changed (a DHCP renewal, say).
    const get = cache.get.bind(cache);
    cache.get = () => {
      const view = get();
      cache.invalidate();
      return view;
    };
    await r.apply(THREE(), { strategy: 'weighted', kernelCache: cache });
    expect(r.kernel.table).toContain('numgen random');
    cache.get = get;
    expect(cache.get()).toBeUndefined();
  });

  it('keeps nothing of an apply during which an event came', async () => {
    const r = router();
    const cache = new KernelCache();
    await r.apply(THREE());
    await r.engine.drift({ configPath: THREE(), runDir: r.runDir, kernelCache: cache });
    // Another program's change, announced while the table is being loaded.
    const load = r.engine['nft'].tryLoad.bind(r.engine['nft']);
    r.engine['nft'].tryLoad = async (text: string) => {
      cache.invalidate();
      return load(text);
    };
    await r.apply(THREE(), { strategy: 'weighted', kernelCache: cache });
    expect(r.kernel.table).toContain('numgen random');
    expect(cache.get()).toBeUndefined();
  });

  it('reads the kernel again after an event, and decides on what it reads', async () => {
    const r = router();
    const cache = new KernelCache();
    await r.apply(THREE());
    await r.engine.drift({ configPath: THREE(), runDir: r.runDir, kernelCache: cache });
    // Behind mwan's back, with the event that announces it.
    r.kernel.routes = r.kernel.routes.filter((route) => route.table !== '1002');
    cache.invalidate();
    r.runner.calls.length = 0;
    const report = await r.apply(THREE(), { kernelCache: cache });
    expect(r.runner.commandLines.filter((l) => /^ip (-[46] )?(-N )?-json|^nft list/.test(l)).length).toBeGreaterThan(0);
    expect(report.actions).toEqual(['ip route replace default via 10.37.2.1 dev eth2 table 1002 proto 109']);
  });

  it('refuses a table that holds routes it did not create, before changing anything', async () => {
    const r = router({ routes: [{ dst: '10.9.0.0/16', dev: 'eth9', table: '1002', protocol: 'static' }] });
    const before = r.snapshot();
    await expect(r.apply(THREE())).rejects.toThrow(/routing table 1002 holds routes mwan did not create/);
    expect(r.snapshot()).toEqual(before);
    expect(existsSync(journalPath(r.runDir))).toBe(false);
  });

  it('prints the plan on a dry run and changes nothing', async () => {
    const r = router();
    const before = r.snapshot();
    const report = await r.apply(THREE(), { dryRun: true });
    expect(report.actions).toContain('ip rule add pref 31001 fwmark 0x3/0xff lookup 1003 proto 109');
    expect(r.snapshot()).toEqual(before);
    expect(existsSync(statePath(r.runDir))).toBe(false);
  });

  it('repairs what an apply killed midway left behind, from the kernel state', async () => {
    const r = router({
      rules: [
        { priority: 0, src: 'all', table: '255' },
        { priority: 31001, src: 'all', fwmark: '0x1', table: '1001', protocol: '109' },
        { priority: 31001, src: 'all', fwmark: '0x9', table: '1009', protocol: '109' },
        { priority: 32766, src: 'all', table: '254' },
      ],
      routes: [{ dst: 'default', gateway: '10.37.9.1', dev: 'eth9', table: '1009', protocol: '109' }],
      sysctls: { 'net/ipv4/ip_forward': '1' },
    });
    mkdirSync(r.runDir, { recursive: true });
    writeFileSync(journalPath(r.runDir), JSON.stringify({
      version: 1, pid: 999999, started: '2026-01-01T00:00:00.000Z', step: 'sysctls',
      snapshot: { nft: null, rules: [], routes: [] },
      pendingSysctls: [{ path: 'net/ipv4/ip_forward', value: '1', previous: '0' }],
    }));
    const report = await r.apply(TWO());
    expect(report.repaired).toBe(true);
    expect(report.notes[0]).toMatch(/stopped during "sysctls"/);
    const owned = r.kernel.rules.filter((rule) => rule.protocol === '109').map((rule) => `${rule.priority} ${rule.iif ?? ''}${rule.fwmark ?? ''}`);
    expect(owned).toEqual(['31000 eth0', '31000 lo', '31001 0x1', '31001 0x2']);
    expect(r.kernel.routes.map((route) => route.table)).toEqual(['1001', '1002']);
    expect(existsSync(journalPath(r.runDir))).toBe(false);
    // The value from before the interrupted run is still the one `down` will restore.
    const state = JSON.parse(readFileSync(statePath(r.runDir), 'utf8')) as { sysctls: Array<{ path: string; previous: string }> };
    expect(state.sysctls.find((s) => s.path === 'net/ipv4/ip_forward')?.previous).toBe('0');
  });
});

describe('apply rolls back', () => {
  /** A sysctl store whose writes to one path fail. */
  const failingWrites = (path: string) => (kernel: FakeKernel): SysctlStore => ({
    read: (p) => kernel.read(p),
    write: async (p, v) => {
      if (p === path && v === '2') throw new Error('Permission denied');
      return kernel.write(p, v);
    },
  });

  const failures: Array<[string, FakeKernelOptions['fail'], ((k: FakeKernel) => SysctlStore) | undefined]> = [
    ['routes', { 'ip route replace default via 10.37.4.1': 'Error: Nexthop has invalid gateway.' }, undefined],
    ['rules', { 'ip rule add pref 31001 fwmark 0x9/0xff': 'RTNETLINK answers: Operation not permitted' }, undefined],
    ['nft', { 'nft -f -': 'Error: Could not process rule: Device or resource busy' }, undefined],
    ['stale rules', { 'ip rule del pref 31001 fwmark 0x2/0xff': 'RTNETLINK answers: Operation not permitted' }, undefined],
    ['stale routes', { 'ip route del default via 10.37.2.1': 'RTNETLINK answers: Operation not permitted' }, undefined],
    ['conntrack', { 'conntrack -D -m 2/255': 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted' }, undefined],
    ['sysctls', undefined, failingWrites('net/ipv4/conf/eth4/rp_filter')],
  ];

  it.each(failures)('when step "%s" fails, to exactly the state before', async (step, fail, sysctls) => {
    // Only the second apply meets the failure: a fake kernel with failures from the start
    // would stop the first one too, so the failures are installed in between.
    const r = router({ sysctls: { 'net/ipv4/ip_forward': '0', 'net/ipv4/conf/eth4/rp_filter': '1' }, conntrack: { 2: 1 } }, sysctls);
    await r.apply(THREE());
    const before = r.snapshot();
    const state = readFileSync(statePath(r.runDir), 'utf8');
    // Once only: the rollback's own calls must succeed.
    if (fail) for (const [prefix, message] of Object.entries(fail)) r.kernel.failOn(prefix, message, 1);

    // isp2 goes (stale rule, route and connections), isp4 comes with a new mark (new route and rule).
    const error = await r.apply(configFile([link(1), link(3), link(4, { mark: 9 })])).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'runtime', problems: [expect.stringContaining(`apply failed at step "${step}"`), 'the previous state was restored'] });
    expect(r.snapshot()).toEqual(before);
    expect(readFileSync(statePath(r.runDir), 'utf8')).toBe(state);
    expect(existsSync(journalPath(r.runDir))).toBe(false);
    expect(existsSync(lockPath(r.runDir))).toBe(false);
  });

  it('when writing state.json fails', async () => {
    const r = router();
    await r.apply(THREE());
    const before = r.snapshot();
    // A directory where the temporary state file would go makes the write fail.
    mkdirSync(`${statePath(r.runDir)}.${process.pid}.tmp`);
    await expect(r.apply(TWO())).rejects.toMatchObject({ problems: [expect.stringContaining('apply failed at step "state"'), 'the previous state was restored'] });
    expect(r.snapshot()).toEqual(before);
  });

  it('and says so when the rollback fails too', async () => {
    const r = router();
    await r.apply(THREE());
    r.kernel.failOn('ip rule del pref 31001 fwmark 0x2/0xff', 'RTNETLINK answers: Operation not permitted');
    r.runner.on('nft -f -', { exitCode: 1, stderr: 'Error: out of memory\n' }, Infinity);
    r.runner.on('nft -f -', {}, 1);
    const error = await r.apply(TWO()).then(() => undefined, (e: unknown) => e) as { problems: string[] };
    expect(error.problems[1]).toMatch(/^rolling back failed too \(nft table: .*out of memory.*\); run "mwan apply" again or "mwan down"$/);
    expect(existsSync(journalPath(r.runDir))).toBe(true);
  });
});

/** A transcript with each `ip -batch` here-document spelled out as one `[call] ip ...` per line. */
function unbatch(transcript: string): string {
  return transcript.replace(/^\[call\] ip (?:-force )?-batch - <<EOF\n([\s\S]*?)^EOF$/gm, (_, body: string) => body.trimEnd().split('\n').map((l) => `[call] ip ${l}`).join('\n'));
}
