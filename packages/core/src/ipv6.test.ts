import { describe, expect, it } from '@jest/globals';
import type { Config } from './config-types.js';
import { hasHostBits, inIpv6Prefix, ipv6Bits, ipv6PrefixesOverlap, isLinkLocal, parseIpv6Prefix } from './ipv6.js';
import { ipv6Condition, usableLinks, type InterfaceFacts } from './link-condition.js';
import { buildModel } from './model.js';
import { createSelectorBuilder } from './nft-builder.js';
import { render } from './render.js';
import { defineStrategy } from './strategy.js';

describe('IPv6 addresses and prefixes', () => {
  it('reads addresses as 128-bit numbers, shortened or with an IPv4 tail', () => {
    expect(ipv6Bits('::1')).toBe(1n);
    expect(ipv6Bits('2001:db8::')).toBe(0x20010db8n << 96n);
    expect(ipv6Bits('::ffff:10.0.0.1')).toBe((0xffffn << 32n) | 0x0a000001n);
  });

  it('parses prefixes and sees host bits, membership and overlap', () => {
    expect(parseIpv6Prefix('fd00:157::/64')).toMatchObject({ length: 64 });
    expect(parseIpv6Prefix('fd00:157::/129')).toBeUndefined();
    expect(parseIpv6Prefix('10.0.0.0/8')).toBeUndefined();
    expect(hasHostBits(parseIpv6Prefix('2001:db8::1/64')!)).toBe(true);
    expect(hasHostBits(parseIpv6Prefix('2001:db8::/64')!)).toBe(false);
    expect(inIpv6Prefix('2001:db8:0:0:ffff::1', parseIpv6Prefix('2001:db8::/64')!)).toBe(true);
    expect(inIpv6Prefix('2001:db8:0:1::1', parseIpv6Prefix('2001:db8::/64')!)).toBe(false);
    expect(ipv6PrefixesOverlap(parseIpv6Prefix('2001:db8::/48')!, parseIpv6Prefix('2001:db8:0:5::/64')!)).toBe(true);
    expect(ipv6PrefixesOverlap(parseIpv6Prefix('2001:db8:1::/48')!, parseIpv6Prefix('2001:db8:2::/48')!)).toBe(false);
    expect(isLinkLocal('fe80::1')).toBe(true);
    expect(isLinkLocal('2001:db8::1')).toBe(false);
  });
});

const config: Config = {
  lan: ['eth0'],
  lan6: 'fd00:157::/64',
  links: [
    { name: 'isp1', interface: 'eth1', gateway: '10.37.1.1', ipv6: { gateway: 'auto' } },
    { name: 'isp2', interface: 'eth2', gateway: '10.37.2.1', ipv6: { gateway: 'fe80::1', snat: '2001:db8:202::/64' } },
    { name: 'isp3', interface: 'eth3', gateway: '10.37.3.1' },
  ],
};
const facts = (name: string, over: Partial<InterfaceFacts> = {}): InterfaceFacts => ({
  name, adminUp: true, carrier: true, addresses: ['10.37.1.253'], pointToPoint: false, gateways: [], addresses6: ['2001:db8:1::253'], gateways6: [], ...over,
});

describe('the IPv6 side of a link', () => {
  const model = buildModel(config);

  it('learns an auto gateway from the IPv6 default route, and needs an address to masquerade to', () => {
    expect(ipv6Condition(model.links[0], facts('eth1', { gateways6: ['fe80::9'] }))).toEqual({ up: true, gateway: 'fe80::9' });
    expect(ipv6Condition(model.links[0], facts('eth1'))).toMatchObject({ up: false, reason: 'no-gateway' });
    expect(ipv6Condition(model.links[0], facts('eth1', { gateways6: ['fe80::9'], addresses6: [] }))).toMatchObject({ up: false, reason: 'no-address' });
    // NPTv6 needs no address of the prefix on the interface: the ISP routes the prefix.
    expect(ipv6Condition(model.links[1], facts('eth2', { addresses6: [] }))).toEqual({ up: true, gateway: 'fe80::1' });
  });

  it('keeps a link whose IPv6 side cannot carry traffic for IPv4, without its IPv6', () => {
    const interfaces = new Map([['eth1', facts('eth1')], ['eth2', facts('eth2')], ['eth3', facts('eth3')]]);
    const { model: usable, down, down6 } = usableLinks(model, interfaces);
    expect(down).toEqual([]);
    expect(down6.map((d) => [d.link.name, d.reason])).toEqual([['isp1', 'no-gateway']]);
    expect(usable.links.map((l) => [l.name, l.ipv6 !== undefined])).toEqual([['isp1', false], ['isp2', true], ['isp3', false]]);
  });

  it('translates the LAN prefix with NPTv6 and never lets IPv6 targets judge a link without IPv6', () => {
    expect(model.links[1].ipv6?.snat).toEqual({ kind: 'prefix', from: 'fd00:157::/64', to: '2001:db8:202::/64' });
    const withTargets = buildModel({ ...config, health: { targets: ['172.16.1.100', '2001:db8:16::100'] } });
    expect(withTargets.links.map((l) => l.health.targets)).toEqual([
      ['172.16.1.100', '2001:db8:16::100'], ['172.16.1.100', '2001:db8:16::100'], ['172.16.1.100'],
    ]);
  });
});

describe('strategies for IPv6 connections', () => {
  it('hash the IPv6 addresses with the same fields', () => {
    const links = [{ name: 'a', mark: 1, weight: 1, interface: 'eth1', family: 'ipv6' as const }];
    expect(createSelectorBuilder(links, 'ipv6').jhash(['ip saddr', 'th dport'], 4).text).toBe('jhash ip6 saddr . th dport mod 4 seed 0x0');
    expect(createSelectorBuilder(links).jhash(['ip saddr'], 4).text).toBe('jhash ip saddr mod 4 seed 0x0');
  });

  const sourceHash = defineStrategy({
    name: 'hash-src',
    meta: { description: 'hash', schema: { type: 'object' } },
    select: ({ nft }) => {
      const { modulus, entries } = nft.weightEntries();
      return nft.map(nft.jhash(['ip saddr'], modulus), entries);
    },
  });

  it('run once per family, IPv6 over the links that carry it, each with its own active set', () => {
    const rendered = render(buildModel(config), sourceHash, { active: ['isp1', 'isp3'], active6: ['isp2'] });
    expect(rendered.active).toEqual(['isp1', 'isp3']);
    expect(rendered.active6).toEqual(['isp2']);
    expect(rendered.nft).toContain('meta nfproto ipv6 goto pick_isp2 comment "mwan: strategy hash-src"');
    expect(rendered.nft).toContain('jhash ip saddr mod 2 seed 0x0 vmap { 0 : goto pick_isp1, 1 : goto pick_isp3 }');
    // Without an IPv6 active set, IPv6 follows the IPv4 one where it can, and all IPv6 links otherwise.
    expect(render(buildModel(config), sourceHash, { active: ['isp1'] }).active6).toEqual(['isp1']);
    expect(render(buildModel(config), sourceHash, { active: ['isp3'] }).active6).toEqual(['isp1', 'isp2']);
  });

  it('leave IPv6 alone when no link carries it', () => {
    const four = render(buildModel({ lan: ['eth0'], links: [{ name: 'a', interface: 'eth1' }] }), sourceHash);
    expect(four.nft).toContain('meta nfproto != ipv4 return');
    expect(four.nft).not.toMatch(/ip6|ipv6/);
    expect(four.active6).toEqual([]);
  });
});
