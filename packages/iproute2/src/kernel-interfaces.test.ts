import { describe, expect, it } from '@jest/globals';
import { interfaceFacts, type KernelInterface } from './kernel-interfaces.js';
import type { KernelRoute } from './kernel-routes.js';

// Read off a namespace: a0 up with an address and a default route; b0 up without carrier (its
// peer is down) with a default route the kernel marks linkdown; c0 point-to-point with a peer.
const ADDR = [
  {"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK"], "operstate": "DOWN", "addr_info": []},
  {"ifindex": 2, "ifname": "a1", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "operstate": "UP", "addr_info": [{"family": "inet6", "local": "fe80::10af:66ff:fe2d:50", "prefixlen": 64, "scope": "link", "tentative": true}]},
  {"ifindex": 3, "ifname": "a0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "operstate": "UP", "addr_info": [{"family": "inet", "local": "10.37.1.253", "prefixlen": 24, "scope": "global", "label": "a0"}, {"family": "inet6", "local": "fe80::fc30:90ff:fe4e:ad1b", "prefixlen": 64, "scope": "link", "tentative": true}]},
  {"ifindex": 4, "ifname": "b1", "flags": ["BROADCAST", "MULTICAST"], "operstate": "DOWN", "addr_info": []},
  {"ifindex": 5, "ifname": "b0", "flags": ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"], "operstate": "LOWERLAYERDOWN", "addr_info": [{"family": "inet", "local": "10.37.2.253", "prefixlen": 24, "scope": "global", "label": "b0"}]},
  {"ifindex": 6, "ifname": "c1", "flags": ["BROADCAST", "MULTICAST"], "operstate": "DOWN", "addr_info": []},
  {"ifindex": 7, "ifname": "c0", "flags": ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"], "operstate": "LOWERLAYERDOWN", "addr_info": [{"family": "inet", "local": "10.64.0.1", "address": "10.64.0.2", "prefixlen": 32, "scope": "global", "label": "c0"}]},
] as KernelInterface[];
const DEFAULTS = [
  {"dst": "default", "gateway": "10.37.1.1", "dev": "a0", "metric": 100, "flags": []},
  {"dst": "default", "gateway": "10.37.2.1", "dev": "b0", "metric": 200, "flags": ["linkdown"]},
] as KernelRoute[];

describe('interfaceFacts', () => {
  const facts = interfaceFacts(ADDR, DEFAULTS);

  it('reads flags, IPv4 addresses and default-route gateways per interface', () => {
    expect(facts.get('a0')).toEqual({
      name: 'a0', adminUp: true, carrier: true, addresses: ['10.37.1.253'], pointToPoint: false, gateways: ['10.37.1.1'], addresses6: [], gateways6: [],
    });
    expect(facts.get('b0')).toMatchObject({ adminUp: true, carrier: false, addresses: ['10.37.2.253'], gateways: ['10.37.2.1'] });
    expect(facts.get('b1')).toMatchObject({ adminUp: false, carrier: false, addresses: [] });
    expect(facts.get('c0')).toMatchObject({ addresses: ['10.64.0.1'], peer: '10.64.0.2' });
    expect(facts.get('a1')?.addresses).toEqual([]);
    expect(facts.has('wwan0')).toBe(false);
  });

  it('orders gateways by metric and ignores routes without a gateway', () => {
    const routes: KernelRoute[] = [
      { dst: 'default', gateway: '10.0.0.9', dev: 'a0', metric: 600 },
      { dst: 'default', gateway: '10.0.0.1', dev: 'a0', metric: 50 },
      { dst: 'default', dev: 'a0' },
      { dst: '10.9.0.0/16', gateway: '10.0.0.5', dev: 'a0' },
    ];
    expect(interfaceFacts(ADDR, routes).get('a0')?.gateways).toEqual(['10.0.0.1', '10.0.0.9']);
  });

  it('reads global IPv6 addresses that finished DAD, and the IPv6 default routes\' next hops', () => {
    const dual: KernelInterface[] = [{
      ifname: 'w0', flags: ['UP', 'LOWER_UP'], addr_info: [
        { family: 'inet6', local: '2001:db8:1::253', prefixlen: 64, scope: 'global' },
        { family: 'inet6', local: '2001:db8:1::254', prefixlen: 64, scope: 'global', tentative: true },
        { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
      ],
    }];
    const ra: KernelRoute[] = [
      { dst: 'default', gateway: 'fe80::9', dev: 'w0', metric: 2048 },
      { dst: 'default', gateway: 'fe80::1', dev: 'w0', metric: 1024 },
    ];
    expect(interfaceFacts(dual, [], ra).get('w0')).toMatchObject({ addresses: [], addresses6: ['2001:db8:1::253'], gateways6: ['fe80::1', 'fe80::9'] });
  });

  it('takes POINTOPOINT from the flags', () => {
    expect(interfaceFacts([{ ifname: 'ppp0', flags: ['POINTOPOINT', 'UP', 'LOWER_UP'], addr_info: [] }], []).get('ppp0')?.pointToPoint).toBe(true);
  });
});
