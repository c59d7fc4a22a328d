import { describe, expect, it } from '@jest/globals';
import { FakeSpawner } from '@mwan/iproute2';
import { FakeClock } from './fake-clock.js';
import { IDLE_INTERVALS, RESTART_AFTER_FAILURES, SEND_SLACK_MS, type PingSessionKey } from './ping-session.js';
import { PingSessions } from './ping-sessions.js';
import type { ProbeOutcome } from './probe.js';

const KEY: PingSessionKey = { interface: 'wan2', mark: 2, target: '10.0.0.1', interval: 0.5, timeout: 0.3 };
const HEADER = 'PING 10.0.0.1 (10.0.0.1) from 10.37.2.253 wan2: 56(84) bytes of data.';
const reply = (seq: number, ms: number) => `64 bytes from 10.0.0.1: icmp_seq=${seq} ttl=64 time=${ms} ms`;

function setup() {
  const clock = new FakeClock();
  const spawner = new FakeSpawner();
  const sessions = new PingSessions(spawner, clock);
  /** What `promise` resolved with by now (time does not move), or 'pending'. */
  const state = async (promise: Promise<ProbeOutcome>): Promise<ProbeOutcome | 'pending'> => {
    let seen: ProbeOutcome | 'pending' = 'pending';
    void promise.then((outcome) => {
      seen = outcome;
    });
    await clock.advance(0);
    return seen;
  };
  const ping = (n = 0) => spawner.processes[n];
  return { clock, spawner, sessions, state, ping };
}

describe('PingSessions', () => {
  it('starts one ping per key and answers each probe with the next echo', async () => {
    const t = setup();
    const first = t.sessions.probe(KEY);
    expect(t.spawner.processes.map((p) => p.line)).toEqual(['ping -n -U -O -i 0.5 -I wan2 -m 2 10.0.0.1']);
    t.ping().print(HEADER, reply(1, 4.2));
    expect(await t.state(first)).toEqual({ ok: true, rttMs: 4.2 });
    await t.clock.advance(500);
    const second = t.sessions.probe(KEY);
    expect(await t.state(second)).toBe('pending');
    t.ping().print(reply(2, 0.3));
    expect(await t.state(second)).toEqual({ ok: true, rttMs: 0.3 });
    // Another target is another process; the same key never a second one.
    void t.sessions.probe({ ...KEY, target: '10.0.0.2' });
    void t.sessions.probe(KEY);
    expect(t.spawner.processes).toHaveLength(2);
  });

  it('answers with an echo that completes after the call, not one before it', async () => {
    const t = setup();
    void t.sessions.probe(KEY);
    t.ping().print(HEADER, reply(1, 1));
    await t.clock.advance(100);
    const probe = t.sessions.probe(KEY);
    expect(await t.state(probe)).toBe('pending');
    t.ping().print(reply(2, 2));
    expect(await t.state(probe)).toEqual({ ok: true, rttMs: 2 });
  });

  it('calls an answer slower than the timeout a timeout', async () => {
    const t = setup();
    const probe = t.sessions.probe(KEY);
    t.ping().print(HEADER, reply(1, 301));
    expect(await t.state(probe)).toEqual({ ok: false, error: 'timeout' });
  });

  it('keeps the schedule through a reply timed hours by a wall-clock step under it', async () => {
    const t = setup();
    const stepped = t.sessions.probe(KEY);
    t.ping().print(HEADER, reply(1, 10_800_000));
    expect(await t.state(stepped)).toEqual({ ok: false, error: 'timeout' });
    await t.clock.advance(500);
    const next = t.sessions.probe(KEY);
    await t.clock.advance(100);
    expect(await t.state(next)).toBe('pending');
    t.ping().print(reply(2, 0.5));
    expect(await t.state(next)).toEqual({ ok: true, rttMs: 0.5 });
  });

  it('judges a missing answer itself, the timeout after the echo left, not an interval later with ping', async () => {
    const t = setup();
    const probe = t.sessions.probe(KEY);
    await t.clock.advance(300 + SEND_SLACK_MS - 1);
    expect(await t.state(probe)).toBe('pending');
    await t.clock.advance(1);
    expect(await t.state(probe)).toEqual({ ok: false, error: 'timeout' });
    // The next echo's deadline runs from when it was seen to leave: ping's line for the first.
    await t.clock.advance(200);
    t.ping().print(HEADER, 'no answer yet for icmp_seq=1');
    const next = t.sessions.probe(KEY);
    await t.clock.advance(300 + SEND_SLACK_MS - 1);
    expect(await t.state(next)).toBe('pending');
    await t.clock.advance(1);
    expect(await t.state(next)).toEqual({ ok: false, error: 'timeout' });
  });

  it('takes ping\'s `no answer yet` for a timeout at once', async () => {
    const t = setup();
    const probe = t.sessions.probe(KEY);
    t.ping().print(HEADER, 'no answer yet for icmp_seq=1');
    expect(await t.state(probe)).toEqual({ ok: false, error: 'timeout' });
  });

  it('with a timeout longer than the interval, waits for the answer past the next echo', async () => {
    const t = setup();
    const key = { ...KEY, interval: 0.5, timeout: 1 };
    const probe = t.sessions.probe(key);
    await t.clock.advance(500);
    t.ping().print(HEADER, 'no answer yet for icmp_seq=1');
    expect(await t.state(probe)).toBe('pending');
    await t.clock.advance(200);
    t.ping().print(reply(1, 700));
    expect(await t.state(probe)).toEqual({ ok: true, rttMs: 700 });
  });

  it('fails an echo on an ICMP error or on ping\'s complaint, with the message shortened', async () => {
    const t = setup();
    const unreachable = t.sessions.probe(KEY);
    t.ping().print(HEADER, 'From 10.37.2.1 icmp_seq=1 Destination Host Unreachable');
    expect(await t.state(unreachable)).toEqual({ ok: false, error: 'Destination Host Unreachable' });
    await t.clock.advance(500);
    const complaint = t.sessions.probe(KEY);
    t.ping().printError('ping: sendmsg: Network is unreachable');
    expect(await t.state(complaint)).toEqual({ ok: false, error: 'sendmsg: Network is unreachable' });
    // A warning judges nothing.
    await t.clock.advance(500);
    const next = t.sessions.probe(KEY);
    t.ping().printError('ping: Warning: time of day goes back (-7199999726us), taking countermeasures');
    expect(await t.state(next)).toBe('pending');
  });

  it('when ping exits, fails the waiting probe and the next with its message, and starts anew an interval later', async () => {
    const t = setup();
    const waiting = t.sessions.probe(KEY);
    t.ping().printError('ping: SO_BINDTODEVICE wan2: No such device');
    t.ping().exit({ exitCode: 2 });
    const error = { ok: false, error: 'SO_BINDTODEVICE wan2: No such device' };
    expect(await t.state(waiting)).toEqual(error);
    await t.clock.advance(499);
    expect(await t.state(t.sessions.probe(KEY))).toEqual(error);
    expect(t.spawner.processes).toHaveLength(1);
    await t.clock.advance(1);
    const again = t.sessions.probe(KEY);
    expect(t.spawner.processes).toHaveLength(2);
    t.ping(1).print(HEADER, reply(1, 1));
    expect(await t.state(again)).toEqual({ ok: true, rttMs: 1 });
  });

  it('says how ping ended when it printed nothing about it', async () => {
    const t = setup();
    const probe = t.sessions.probe(KEY);
    t.ping().exit({ exitCode: 1 });
    expect(await t.state(probe)).toEqual({ ok: false, error: 'ping exited with 1' });
    await t.clock.advance(500);
    const killed = t.sessions.probe(KEY);
    t.ping(1).exit({ signal: 'SIGKILL' });
    expect(await t.state(killed)).toEqual({ ok: false, error: 'ping killed by SIGKILL' });
  });

  it(`restarts a ping after ${RESTART_AFTER_FAILURES} failed echoes in a row (a new interface, a new address, a silent ping)`, async () => {
    const t = setup();
    const outcomes: (ProbeOutcome | 'pending')[] = [];
    for (let i = 0; i < RESTART_AFTER_FAILURES; i++) {
      const probe = t.sessions.probe(KEY);
      await t.clock.advance(500);
      outcomes.push(await t.state(probe));
    }
    expect(outcomes).toEqual(Array(RESTART_AFTER_FAILURES).fill({ ok: false, error: 'timeout' }));
    expect(t.ping().killed).toBe(true);
    const probe = t.sessions.probe(KEY);
    expect(t.spawner.processes).toHaveLength(2);
    t.ping(1).print(HEADER, reply(1, 1));
    expect(await t.state(probe)).toEqual({ ok: true, rttMs: 1 });
  });

  it(`ends a ping nobody asked about for ${IDLE_INTERVALS} intervals`, async () => {
    const t = setup();
    const probe = t.sessions.probe(KEY);
    t.ping().print(HEADER, reply(1, 1));
    await t.state(probe);
    let seq = 2;
    for (let at = 0; at < IDLE_INTERVALS * 500 - 500; at += 500) {
      await t.clock.advance(500);
      t.ping().print(reply(seq++, 1));
    }
    await t.clock.advance(499);
    expect(t.ping().killed).toBe(false);
    await t.clock.advance(1);
    expect(t.ping().killed).toBe(true);
    expect(t.sessions.running).toBe(0);
    expect(t.clock.pending).toBe(0);
  });

  it('follows the sequence number through its wrap after 65535', async () => {
    const t = setup();
    void t.sessions.probe(KEY);
    t.ping().print(HEADER);
    for (let seq = 1; seq <= 65_535; seq++) t.ping().print(reply(seq, 1));
    const probe = t.sessions.probe(KEY);
    t.ping().print(reply(0, 2));
    expect(await t.state(probe)).toEqual({ ok: true, rttMs: 2 });
  });

  it('close() ends every ping and fails the probes waiting', async () => {
    const t = setup();
    const waiting = t.sessions.probe(KEY);
    void t.sessions.probe({ ...KEY, target: '10.0.0.2' });
    await t.sessions.close();
    expect(t.spawner.running).toEqual([]);
    expect(t.spawner.processes.every((p) => p.killed)).toBe(true);
    expect(await t.state(waiting)).toEqual({ ok: false, error: 'probing stopped' });
    expect(t.clock.pending).toBe(0);
  });
});
