import { describe, expect, it } from '@jest/globals';
import type { HealthFile } from '@mwan/health';
import { RecordingRunner } from '@mwan/iproute2';
import { countByMark, parseIpLinkStats, parseNftTable, readKernelSample, type KernelSample } from './kernel-sample.js';
import { renderExposition } from './exposition.js';
import { buildSnapshot } from './snapshot.js';

const links = [{ name: 'isp1', interface: 'eth1', mark: 1, tier: 0 }, { name: '2nd', interface: 'eth2', mark: 2, tier: 0 }];

const kernel = (handle: number, isp1: number, second: number, txBytes = 100): KernelSample => ({
  tableHandle: handle,
  counters: { isp1, l2nd: second },
  interfaces: { eth1: { ifindex: 4, rxPackets: 1, rxBytes: 60, txPackets: 2, txBytes }, eth2: { ifindex: 5, rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 } },
  conntrackByMark: new Map([[1, 3]]),
});

describe('metrics snapshot', () => {
  it('carries the new-connection counters across a table swap and the interface counters across a new ifindex', () => {
    const input = { links, health: null, daemon: null, now: 0 };
    const a = buildSnapshot(kernel(7, 10, 5), input, {});
    expect(a.snapshot.links.map((l) => l.newConnections)).toEqual([10, 5]);
    const b = buildSnapshot(kernel(8, 2, 1, 40), input, a.carry);
    expect(b.snapshot.links.map((l) => l.newConnections)).toEqual([12, 6]);
    // Same ifindex, lower value: reset counted as one.
    expect(b.snapshot.links[0].interfaceCounters?.txBytes).toBe(140);
    expect(b.snapshot.links.map((l) => l.conntrackEntries)).toEqual([3, 0]);
    expect(b.snapshot.links[0].health).toBeNull();
    expect(b.snapshot.tableLoaded).toBe(true);
  });

  it('counts each policy rule by its counter rule.NAME, carried across a table swap', () => {
    const input = { links, health: null, daemon: null, now: 0 };
    const a = buildSnapshot({ ...kernel(7, 1, 1), counters: { isp1: 1, l2nd: 1, 'rule.voip': 4, 'rule.bank': 9 } }, input, {});
    expect(a.snapshot.rules).toEqual([{ name: 'voip', newConnections: 4 }, { name: 'bank', newConnections: 9 }]);
    const b = buildSnapshot({ ...kernel(8, 1, 1), counters: { isp1: 1, l2nd: 1, 'rule.voip': 1 } }, input, a.carry);
    expect(b.snapshot.rules).toEqual([{ name: 'voip', newConnections: 5 }]);
    expect(renderExposition(b.snapshot)).toContain('# TYPE mwan_rule_new_connections_total counter\nmwan_rule_new_connections_total{rule="voip"} 5\n');
    expect(buildSnapshot(kernel(7, 1, 1), input, {}).snapshot.rules).toBeUndefined();
  });

  it('takes tier, state, seconds in state, RTT and loss from health.json', () => {
    const health: HealthFile = {
      version: 1, pid: 1, updated: '', config: '', active: ['isp1'], allDown: false,
      links: [{ name: 'isp1', interface: 'eth1', mark: 1, priority: 2, checked: true, state: 'down', since: new Date(1000).toISOString(), rttMs: 1.5, lossPercent: 50, probes: 9, lastError: 'timeout' }],
    };
    const { snapshot } = buildSnapshot(kernel(7, 1, 1), { links, health, daemon: null, now: 4500 }, {});
    expect(snapshot.links[0]).toMatchObject({ tier: 2, active: true, health: { checked: true, up: false, stateSeconds: 3.5, rttMs: 1.5, lossPercent: 50, lastError: 'timeout' } });
    expect(snapshot.links[1]).toMatchObject({ active: false, health: null });
  });

  it('counts seconds in state from the daemon\'s monotonic figure when the file has one: a wall-clock step does not move them', () => {
    // The link went down at wall 1000 and has held 3 s by the write at 4000; then the wall clock
    // was set back an hour: `since` alone would give 0 s, or an hour more after a step forward.
    const file = (updated: number): HealthFile => ({
      version: 1, pid: 1, updated: new Date(updated).toISOString(), config: '', active: ['isp1'], allDown: false,
      links: [{ name: 'isp1', interface: 'eth1', mark: 1, priority: 0, checked: true, state: 'down', since: new Date(1000).toISOString(), stateSeconds: 3, rttMs: null, lossPercent: 50, probes: 9 }],
    });
    const HOUR = 3_600_000;
    const at = (updated: number, now: number) => buildSnapshot(kernel(7, 1, 1), { links, health: file(updated), daemon: null, now }, {}).snapshot.links[0]?.health?.stateSeconds;
    expect(at(4000, 4500)).toBe(3.5);
    expect(at(4000 - HOUR, 4500 - HOUR)).toBe(3.5);
    expect(at(4000 + HOUR, 4500 + HOUR)).toBe(3.5);
  });

  it('reads nft, ip and conntrack output', () => {
    const nft = '{"nftables": [{"metainfo": {}}, {"table": {"family": "inet", "name": "mwan", "handle": 9}}, {"counter": {"family": "inet", "name": "isp1", "table": "mwan", "handle": 2, "packets": 42, "bytes": 2520}}]}';
    expect(parseNftTable(nft)).toEqual({ tableHandle: 9, counters: { isp1: 42 } });
    const ip = '[{"ifindex":3,"ifname":"eth1","stats64":{"rx":{"bytes":10,"packets":1},"tx":{"bytes":20,"packets":2}}},{"ifindex":4,"ifname":"x"}]';
    expect(parseIpLinkStats(ip)).toEqual({ eth1: { ifindex: 3, rxPackets: 1, rxBytes: 10, txPackets: 2, txBytes: 20 } });
    const ct = [
      'tcp      6 117 TIME_WAIT src=192.168.157.3 dst=172.16.1.100 sport=1 dport=7000 src=172.16.1.100 dst=10.37.1.253 sport=7000 dport=1 [ASSURED] mark=1 use=1',
      'udp      17 29 src=192.168.157.3 dst=172.16.1.100 sport=2 dport=53 [UNREPLIED] src=172.16.1.100 dst=10.37.2.253 sport=53 dport=2 mark=258 use=1',
      'tcp      6 10 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=3 dport=22 src=10.0.0.2 dst=10.0.0.1 sport=22 dport=3 mark=0 use=1',
    ].join('\n');
    expect(countByMark(ct, 0xff)).toEqual(new Map([[1, 1], [2, 1], [0, 1]]));
    expect(countByMark(ct, 0xffffffff).get(2)).toBeUndefined();
  });

  it('reads one nft dump, the interfaces and one conntrack dump; only the nft dump just before an apply', async () => {
    const runner = new RecordingRunner((call) => (call.file === 'nft' ? { stdout: '{"nftables": [{"table": {"family": "inet", "name": "mwan", "handle": 3}}]}' } : call.file === 'ip' ? { stdout: '[]' } : { stdout: '' }));
    expect(await readKernelSample(runner, 0xff)).toEqual({ tableHandle: 3, counters: {}, interfaces: {}, conntrackByMark: new Map() });
    expect(runner.calls.map((c) => c.line)).toEqual(['nft -j list table inet mwan', 'ip -s -json link show', 'conntrack -L']);
    const before = new RecordingRunner(() => ({ stdout: '{"nftables": []}' }));
    expect(await readKernelSample(before, 0xff, { countersOnly: true })).toEqual({ tableHandle: null, counters: {}, interfaces: {}, conntrackByMark: null });
    expect(before.calls.map((c) => c.line)).toEqual(['nft -j list table inet mwan']);
  });
});
