import { describe, expect, it } from '@jest/globals';
import { resolveHealth } from '@mwan/core';
import { RecordingRunner } from '@mwan/iproute2';
import { SystemProber } from './system-prober.js';

const link = (health: Parameters<typeof resolveHealth>[1]) => ({ name: 'isp2', interface: 'wan2', mark: 2, health: resolveHealth(undefined, health) });

describe('SystemProber', () => {
  it('pings every target through the link and takes the best answer', async () => {
    const runner = new RecordingRunner()
      .on('ping -n -c 1 -W 0.3 -I wan2 -m 2 10.0.0.1', { exitCode: 1 })
      .on('ping -n -c 1 -W 0.3 -I wan2 -m 2 10.0.0.2', { stdout: '64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=4.2 ms\n' });
    const outcome = await new SystemProber(runner).probe(link({ targets: ['10.0.0.1', '10.0.0.2'] }));
    expect(outcome).toEqual({ ok: true, rttMs: 4.2 });
    expect(runner.commandLines.sort()).toEqual([
      'ping -n -c 1 -W 0.3 -I wan2 -m 2 10.0.0.1',
      'ping -n -c 1 -W 0.3 -I wan2 -m 2 10.0.0.2',
    ]);
  });

  it('fails when no target answers', async () => {
    const runner = new RecordingRunner().on('ping', { exitCode: 1 });
    expect(await new SystemProber(runner).probe(link({ targets: ['10.0.0.1', '10.0.0.2'] }))).toEqual({ ok: false, error: 'timeout' });
  });

  it('connects with socat for the tcp method', async () => {
    const runner = new RecordingRunner().on('socat', { exitCode: 1, stderr: 'x socat[1] E connect(...): Connection refused\n' });
    const outcome = await new SystemProber(runner).probe(link({ targets: ['10.0.0.1'], method: 'tcp', port: 80, timeout: 1 }));
    expect(outcome).toEqual({ ok: false, error: 'connection refused' });
    expect(runner.calls[0].args.at(-1)).toBe('TCP4:10.0.0.1:80,so-bindtodevice=wan2,setsockopt-int=1:36:2,connect-timeout=1');
  });

  it('turns a runner that throws (tool missing) into a failed probe', async () => {
    const runner = { run: async () => { throw new Error('spawn ping ENOENT'); } };
    expect(await new SystemProber(runner).probe(link({ targets: ['10.0.0.1'] }))).toEqual({ ok: false, error: 'spawn ping ENOENT' });
  });
});
