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
});
