import { describe, expect, it } from '@jest/globals';
import { buildModel } from './model.js';
import { linkCondition, usableLinks, type InterfaceFacts } from './link-condition.js';

const facts = (over: Partial<InterfaceFacts> = {}): InterfaceFacts => ({
  name: 'eth1', adminUp: true, carrier: true, addresses: ['10.37.1.253'], pointToPoint: false, gateways: [], ...over,
});
const link = { name: 'isp1', interface: 'eth1', gateway: '10.37.1.1' };

describe('linkCondition', () => {
  it('is up with the configured gateway when the interface is up, has carrier and an address', () => {
    expect(linkCondition(link, facts())).toEqual({ up: true, gateway: '10.37.1.1' });
    expect(linkCondition({ name: 'p', interface: 'ppp0' }, facts())).toEqual({ up: true });
  });

  it.each([
    [undefined, 'absent', 'interface eth1 does not exist'],
    [facts({ adminUp: false }), 'admin-down', 'interface eth1 is administratively down'],
    [facts({ carrier: false }), 'no-carrier', 'interface eth1 has no carrier'],
    [facts({ addresses: [] }), 'no-address', 'interface eth1 has no IPv4 address'],
  ])('is down for %j: %s', (given, reason, detail) => {
    expect(linkCondition(link, given)).toEqual({ up: false, reason, detail });
  });

  it('checks in order: an absent interface is absent, not also without carrier', () => {
    expect(linkCondition(link, facts({ adminUp: false, carrier: false, addresses: [] }))).toMatchObject({ reason: 'admin-down' });
    expect(linkCondition(link, facts({ carrier: false, addresses: [] }))).toMatchObject({ reason: 'no-carrier' });
  });

  it('wants a static snat address on the interface; masquerade follows whatever is there', () => {
    expect(linkCondition({ ...link, snatAddress: '10.37.1.253' }, facts())).toEqual({ up: true, gateway: '10.37.1.1' });
    expect(linkCondition({ ...link, snatAddress: '10.37.1.9' }, facts())).toEqual({
      up: false, reason: 'snat-address-missing', detail: 'snat address 10.37.1.9 is not on interface eth1 (it has 10.37.1.253)',
    });
  });

  it('learns an auto gateway from the main table, the lowest metric first, or routes a point-to-point link by device', () => {
    const auto = { ...link, gateway: 'auto' };
    expect(linkCondition(auto, facts({ gateways: ['10.37.1.7', '10.37.1.1'] }))).toEqual({ up: true, gateway: '10.37.1.7' });
    expect(linkCondition(auto, facts({ pointToPoint: true }))).toEqual({ up: true });
    expect(linkCondition(auto, facts({ peer: '10.64.0.2' }))).toEqual({ up: true });
    expect(linkCondition(auto, facts())).toEqual({
      up: false, reason: 'no-gateway', detail: 'interface eth1 has no default route in the main table to learn the gateway from',
    });
  });

  it('leaves a static gateway to the kernel: a route to it may come from anywhere', () => {
    expect(linkCondition({ ...link, gateway: '10.99.0.1' }, facts())).toEqual({ up: true, gateway: '10.99.0.1' });
  });
});

describe('usableLinks', () => {
  const model = buildModel({
    lan: ['eth0'],
    links: [
      { name: 'isp1', interface: 'eth1', gateway: '10.37.1.1', snat: '10.37.1.253' },
      { name: 'isp2', interface: 'eth2', gateway: 'auto' },
      { name: 'lte', interface: 'wwan0', gateway: 'auto' },
    ],
  });
  const interfaces = new Map([
    ['eth1', facts()],
    ['eth2', facts({ name: 'eth2', addresses: ['10.37.2.253'], gateways: ['10.37.2.1'] })],
  ]);

  it('keeps the links that can carry traffic, with learned gateways, and names the others with their reasons', () => {
    const { model: usable, down } = usableLinks(model, interfaces);
    expect(usable.links.map((l) => [l.name, l.gateway, l.mark, l.table])).toEqual([['isp1', '10.37.1.1', 1, 1001], ['isp2', '10.37.2.1', 2, 1002]]);
    expect(down.map((d) => [d.link.name, d.link.mark, d.reason, d.detail])).toEqual([['lte', 3, 'absent', 'interface wwan0 does not exist']]);
    expect(usable.lan).toEqual(['eth0']);
  });

  it('follows a new lease: another gateway on the interface is the next hop', () => {
    const moved = new Map(interfaces);
    moved.set('eth2', { ...interfaces.get('eth2') as InterfaceFacts, gateways: ['10.37.2.77'] });
    expect(usableLinks(model, moved).model.links.find((l) => l.name === 'isp2')?.gateway).toBe('10.37.2.77');
  });
});

