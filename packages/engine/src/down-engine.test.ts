import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKernel, RecordingRunner, type KernelRoute, type KernelRule } from '@mwan/iproute2';
import { createEngines } from './engines.js';
import { statePath } from './run-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-down-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const config = join(tmp, 'config.json');
writeFileSync(config, JSON.stringify({
  lan: ['eth0'],
  links: [{ name: 'isp1', interface: 'eth1', gateway: '10.37.1.1' }, { name: 'isp2', interface: 'eth2.10' }],
}));

const userRule: KernelRule = { priority: 500, src: '192.168.77.0', srclen: 24, table: '77' };
const userRoute: KernelRoute = { dst: 'default', gateway: '192.168.77.1', dev: 'eth3', table: '77', protocol: '4' };

function router(name: string) {
  const kernel = new FakeKernel({
    rules: [{ priority: 0, src: 'all', table: '255' }, userRule, { priority: 32766, src: 'all', table: '254' }],
    routes: [userRoute],
    interfaces: ['eth0', 'eth1', 'eth2.10', 'eth3', 'eth5'],
    sysctls: { 'net/ipv4/ip_forward': '0' },
  });
  const runner = new RecordingRunner(kernel.respond);
  const engines = createEngines({ runner, sysctls: kernel });
  const runDir = join(tmp, name);
  return {
    kernel, runner, runDir,
    apply: () => engines.apply.apply({ configPath: config, runDir, waitSeconds: 0 }),
    down: () => engines.down.down({ runDir, waitSeconds: 0 }),
  };
}

describe('down', () => {
  it('removes exactly what mwan created and puts sysctls back', async () => {
    const r = router('a');
    await r.apply();
    expect(r.kernel.sysctls.get('net/ipv4/conf/eth2.10/rp_filter')).toBe('2');
    const report = await r.down();
    expect(r.kernel.table).toBeNull();
    expect(r.kernel.rules).toEqual([{ priority: 0, src: 'all', table: '255' }, userRule, { priority: 32766, src: 'all', table: '254' }]);
    expect(r.kernel.routes).toEqual([userRoute]);
    expect(r.kernel.sysctls.get('net/ipv4/ip_forward')).toBe('0');
    expect(r.kernel.sysctls.get('net/ipv4/conf/eth2.10/rp_filter')).toBe('1');
    expect(existsSync(statePath(r.runDir))).toBe(false);
    expect(report.actions).toContain('ip rule del pref 31001 fwmark 0x2/0xff lookup 1002 proto 109');
  });

  it('leaves a sysctl someone changed after mwan set it, and says so', async () => {
    const r = router('b');
    await r.apply();
    r.kernel.sysctls.set('net/ipv4/ip_forward', '0');
    const report = await r.down();
    expect(report.kept).toEqual(['net.ipv4.ip_forward=0 (mwan set 1, it was 0)']);
  });

  it('cleans up owned rules and routes without any state file (an apply killed before writing it)', async () => {
    const r = router('c');
    r.kernel.rules.push({ priority: 31001, src: 'all', fwmark: '0x5', table: '1005', protocol: '109' });
    r.kernel.routes.push({ dst: 'default', dev: 'eth5', table: '1005', protocol: '109' });
    await r.down();
    expect(r.kernel.rules).not.toContainEqual(expect.objectContaining({ protocol: '109' }));
    expect(r.kernel.routes).toEqual([userRoute]);
  });

  it('has nothing to do on a clean router', async () => {
    const r = router('d');
    expect(await r.down()).toEqual({ actions: [], kept: [] });
    expect(r.runner.commandLines).toEqual(['nft list table inet mwan', 'ip -4 -N -json -batch -', 'ip -6 -N -json -batch -']);
  });

  it('keeps state.json and fails when something could not be removed', async () => {
    const r = router('e');
    await r.apply();
    r.kernel.failOn('ip route del default via 10.37.1.1', 'RTNETLINK answers: Operation not permitted');
    await expect(r.down()).rejects.toMatchObject({ code: 'runtime', problems: [expect.stringMatching(/^down: ip route del default via 10\.37\.1\.1 .*Operation not permitted$/), expect.stringContaining('state.json is kept')] });
    expect(existsSync(statePath(r.runDir))).toBe(true);
    // Everything else was still removed.
    expect(r.kernel.table).toBeNull();
  });
});
