import { describe, expect, it } from '@jest/globals';
import { FakeKernel } from './fake-kernel.js';
import { IpRoute2 } from './ip-route2.js';
import { RecordingRunner } from './recording-runner.js';

const rule = (mark: number) => ['rule', 'add', 'pref', '31001', 'fwmark', `0x${mark}`, 'lookup', `100${mark}`, 'proto', '109'];

function setup() {
  const kernel = new FakeKernel({ rules: [] });
  const runner = new RecordingRunner(kernel.respond);
  return { kernel, runner, ip: new IpRoute2(runner) };
}

describe('IpRoute2', () => {
  it('runs several changes in one ip -batch process, one command a line', async () => {
    const { kernel, runner, ip } = setup();
    await ip.ipAll([rule(1), rule(2), rule(3)]);
    expect(runner.calls.map((c) => [c.line, c.input])).toEqual([['ip -batch -', `${rule(1).join(' ')}\n${rule(2).join(' ')}\n${rule(3).join(' ')}\n`]]);
    expect(kernel.rules.map((r) => r.fwmark)).toEqual(['0x1', '0x2', '0x3']);
  });

  it('stops at the first failure and names the command that failed', async () => {
    const { kernel, ip } = setup();
    kernel.failOn('ip rule add pref 31001 fwmark 0x2', 'RTNETLINK answers: Operation not permitted');
    await expect(ip.ipAll([rule(1), rule(2), rule(3)])).rejects.toThrow(`ip ${rule(2).join(' ')} failed: RTNETLINK answers: Operation not permitted`);
    expect(kernel.rules.map((r) => r.fwmark)).toEqual(['0x1']);
  });

  it('can run everything and report every failure', async () => {
    const { kernel, runner, ip } = setup();
    kernel.failOn('ip rule add pref 31001 fwmark 0x2', 'RTNETLINK answers: Operation not permitted');
    const failures = await ip.ipEach([rule(1), rule(2), rule(3)]);
    expect(failures).toEqual([{ args: rule(2), message: 'RTNETLINK answers: Operation not permitted' }]);
    expect(kernel.rules.map((r) => r.fwmark)).toEqual(['0x1', '0x3']);
    expect(runner.commandLines).toEqual(['ip -force -batch -']);
  });

  it('runs a single command, or one with its own global options, as a plain ip call', async () => {
    const { runner, ip } = setup();
    await ip.ipAll([rule(1)]);
    await ip.ipAll([rule(2), ['-6', 'rule', 'add', 'pref', '31001', 'from', 'fd00::/8', 'lookup', '1002'], rule(3)]);
    expect(runner.commandLines).toEqual([
      `ip ${rule(1).join(' ')}`, `ip ${rule(2).join(' ')}`, 'ip -6 rule add pref 31001 from fd00::/8 lookup 1002', `ip ${rule(3).join(' ')}`,
    ]);
  });

  it('reads interfaces, rules and routes of both families in one ip -batch per family', async () => {
    // Shaped as ip -N -json prints them: numeric tables and scopes, one JSON array a line.
    const four = [
      [{ ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'] }, { ifname: 'eth1', flags: ['BROADCAST', 'UP', 'LOWER_UP'] }, { ifname: 'eth2', flags: ['NO-CARRIER', 'UP'] }, { ifname: 'eth3', flags: ['UP', 'LOWER_UP'] }],
      [{ ifname: 'eth1', addr_info: [{ family: 'inet', local: '10.37.1.253', prefixlen: 24, scope: '0' }] }],
      [{ dst: 'default', gateway: '10.37.1.1', dev: 'eth1', table: '254', metric: 100 }, { dst: 'default', gateway: '10.9.9.1', dev: 'eth1', table: '1001', protocol: '109' }],
      [{ priority: 0, src: 'all', table: '255' }],
    ];
    const six = [
      [{ ifname: 'eth3', addr_info: [{ family: 'inet6', local: '2001:db8:3::253', prefixlen: 64, scope: '0' }, { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: '253' }] }],
      [{ dst: 'default', gateway: 'fe80::9', dev: 'eth3', table: '254', metric: 1024 }],
      [{ priority: 32766, src: 'all', table: '254' }],
    ];
    const lines = (arrays: unknown[]) => ({ stdout: arrays.map((a) => `${JSON.stringify(a)}\n`).join('') });
    const runner = new RecordingRunner((call) => (call.args[0] === '-4' ? lines(four) : lines(six)));
    const state = await new IpRoute2(runner).state();
    expect(runner.calls.map((c) => [c.line, c.input])).toEqual([
      ['ip -4 -N -json -batch -', 'link show\naddr show\nroute show table all\nrule show\n'],
      ['ip -6 -N -json -batch -', 'addr show\nroute show table all\nrule show\n'],
    ]);
    expect(state.interfaces.get('eth1')).toMatchObject({ carrier: true, addresses: ['10.37.1.253'], gateways: ['10.37.1.1'], addresses6: [] });
    expect(state.interfaces.get('eth2')).toMatchObject({ adminUp: true, carrier: false, addresses: [] });
    expect(state.interfaces.get('eth3')).toMatchObject({ addresses: [], addresses6: ['2001:db8:3::253'], gateways6: ['fe80::9'] });
    expect(state.interfaces.has('eth4')).toBe(false);
    expect(state.rules).toEqual([{ priority: 0, src: 'all', table: '255' }, { priority: 32766, src: 'all', table: '254', family: 'inet6' }]);
    expect(state.routes.map((r) => `${r.family ?? 'inet'} ${r.table} ${r.gateway}`)).toEqual(['inet 254 10.37.1.1', 'inet 1001 10.9.9.1', 'inet6 254 fe80::9']);
  });

  it('names the batch when its output has not one JSON array per command', async () => {
    const runner = new RecordingRunner(() => ({ stdout: '[]\n[]\n' }));
    await expect(new IpRoute2(runner).state()).rejects.toThrow(/^cannot read the output of ip -4 -N -json -batch - \(link show; addr show; route show table all; rule show\): 2 results for 4 commands$/);
  });
});
