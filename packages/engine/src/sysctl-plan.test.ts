import { describe, expect, it } from '@jest/globals';
import { FakeKernel } from '@mwan/iproute2';
import { planSysctls } from './sysctl-plan.js';

const forward = { path: 'net/ipv4/ip_forward', value: '1', why: 'route' };
const rpFilter = (iface: string) => ({ path: `net/ipv4/conf/${iface}/rp_filter`, value: '2', onlyIf: '1', why: 'replies' });

describe('planSysctls', () => {
  it('sets what differs and records the value it replaces', async () => {
    const kernel = new FakeKernel({ sysctls: { 'net/ipv4/ip_forward': '0', 'net/ipv4/conf/eth1/rp_filter': '1' } });
    expect(await planSysctls(kernel, [forward, rpFilter('eth1')], new Map())).toEqual({
      writes: [{ path: 'net/ipv4/ip_forward', value: '1', before: '0' }, { path: 'net/ipv4/conf/eth1/rp_filter', value: '2', before: '1' }],
      records: [{ path: 'net/ipv4/ip_forward', value: '1', previous: '0' }, { path: 'net/ipv4/conf/eth1/rp_filter', value: '2', previous: '1' }],
    });
  });

  it('changes a conditional value only from the value it names (loose or off stays)', async () => {
    const kernel = new FakeKernel({ sysctls: { 'net/ipv4/conf/eth1/rp_filter': '0', 'net/ipv4/conf/eth2/rp_filter': '2' } });
    expect(await planSysctls(kernel, [rpFilter('eth1'), rpFilter('eth2')], new Map())).toEqual({ writes: [], records: [] });
  });

  it('relaxes rp_filter only when the effective value, max(all, interface), is strict', async () => {
    const effective = { path: 'net/ipv4/conf/eth1/rp_filter', value: '2', onlyIfMax: { path: 'net/ipv4/conf/all/rp_filter', value: '1' }, why: 'replies' };
    const plan = async (all: string, iface: string) => {
      const kernel = new FakeKernel({ sysctls: { 'net/ipv4/conf/all/rp_filter': all, 'net/ipv4/conf/eth1/rp_filter': iface } });
      return (await planSysctls(kernel, [effective], new Map())).writes.map((w) => `${w.before}->${w.value}`);
    };
    // Strict through `all` alone: the interface's 2 makes the maximum 2, and down puts its 0 back.
    expect(await plan('1', '0')).toEqual(['0->2']);
    expect(await plan('0', '1')).toEqual(['1->2']);
    expect(await plan('1', '1')).toEqual(['1->2']);
    expect(await plan('0', '0')).toEqual([]);
    expect(await plan('2', '1')).toEqual([]);
    expect(await plan('1', '2')).toEqual([]);
  });

  it('keeps the original previous value across applies', async () => {
    const kernel = new FakeKernel({ sysctls: { 'net/ipv4/ip_forward': '1' } });
    const recorded = new Map([['net/ipv4/ip_forward', { path: 'net/ipv4/ip_forward', value: '1', previous: '0' }]]);
    expect(await planSysctls(kernel, [forward], recorded)).toEqual({ writes: [], records: [{ path: 'net/ipv4/ip_forward', value: '1', previous: '0' }] });
  });

  it('puts back a value no longer wanted, unless it was changed since', async () => {
    const kernel = new FakeKernel({ sysctls: { 'net/ipv4/conf/eth2/rp_filter': '2', 'net/ipv4/conf/eth3/rp_filter': '0' } });
    const recorded = new Map([
      ['net/ipv4/conf/eth2/rp_filter', { path: 'net/ipv4/conf/eth2/rp_filter', value: '2', previous: '1' }],
      ['net/ipv4/conf/eth3/rp_filter', { path: 'net/ipv4/conf/eth3/rp_filter', value: '2', previous: '1' }],
    ]);
    expect((await planSysctls(kernel, [], recorded)).writes).toEqual([{ path: 'net/ipv4/conf/eth2/rp_filter', value: '1', before: '2' }]);
  });

  it('names a missing interface', async () => {
    const kernel = new FakeKernel({ interfaces: ['eth0'] });
    await expect(planSysctls(kernel, [rpFilter('eth7.20')], new Map())).rejects.toThrow('interface "eth7.20" does not exist (no /proc/sys/net/ipv4/conf/eth7.20/rp_filter)');
  });
});
