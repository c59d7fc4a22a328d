import { describe, expect, it } from '@jest/globals';
import { resolveHealth } from '@mwan/core';
import { FakeSpawner, RecordingRunner, type Spawner } from '@mwan/iproute2';
import { FakeClock } from './fake-clock.js';
import { SystemProber } from './system-prober.js';

const link = (health: Parameters<typeof resolveHealth>[1]) => ({ name: 'isp2', interface: 'wan2', mark: 2, health: resolveHealth(undefined, health) });
const settle = () => new FakeClock().advance(0);

describe('SystemProber', () => {
  it('pings every target through the link with a ping kept running, and takes the best answer', async () => {
    const spawner = new FakeSpawner();
    const prober = new SystemProber(new RecordingRunner(), spawner, new FakeClock());
    const round = prober.probe(link({ targets: ['10.0.0.1', '10.0.0.2'] }));
    expect(spawner.processes.map((p) => p.line)).toEqual([
      'ping -n -U -O -i 0.5 -I wan2 -m 2 10.0.0.1',
      'ping -n -U -O -i 0.5 -I wan2 -m 2 10.0.0.2',
    ]);
    spawner.processes[0].print('no answer yet for icmp_seq=1');
    spawner.processes[1].print('64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=4.2 ms');
    expect(await round).toEqual({ ok: true, rttMs: 4.2 });
    await prober.close();
    expect(spawner.running).toEqual([]);
  });

  it('fails when no target answers', async () => {
    const spawner = new FakeSpawner();
    const round = new SystemProber(new RecordingRunner(), spawner, new FakeClock()).probe(link({ targets: ['10.0.0.1', '10.0.0.2'] }));
    for (const p of spawner.processes) p.print('no answer yet for icmp_seq=1');
    expect(await round).toEqual({ ok: false, error: 'timeout' });
  });

  it('connects with socat for the tcp method, one process per probe', async () => {
    const spawner = new FakeSpawner();
    const runner = new RecordingRunner().on('socat', { exitCode: 1, stderr: 'x socat[1] E connect(...): Connection refused\n' });
    const outcome = await new SystemProber(runner, spawner, new FakeClock()).probe(link({ targets: ['10.0.0.1'], method: 'tcp', port: 80, timeout: 1 }));
    expect(outcome).toEqual({ ok: false, error: 'connection refused' });
    expect(runner.calls[0].args.at(-1)).toBe('TCP4:10.0.0.1:80,so-bindtodevice=wan2,setsockopt-int=1:36:2,connect-timeout=1');
    expect(spawner.processes).toEqual([]);
  });

  it('turns a ping that cannot start (tool missing) into a failed probe', async () => {
    const spawner: Spawner = {
      spawn: (_file, _args, listener) => {
        queueMicrotask(() => listener.exit({ error: 'spawn ping ENOENT' }));
        return { pid: undefined, kill: () => {}, write: () => false };
      },
    };
    const round = new SystemProber(new RecordingRunner(), spawner, new FakeClock()).probe(link({ targets: ['10.0.0.1'] }));
    await settle();
    expect(await round).toEqual({ ok: false, error: 'spawn ping ENOENT' });
  });
});
