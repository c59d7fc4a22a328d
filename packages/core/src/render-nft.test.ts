import { describe, expect, it } from '@jest/globals';
import { buildModel } from './model.js';
import { render } from './render.js';
import { defineStrategy } from './strategy.js';

const model = buildModel({
  lan: ['eth0'],
  links: [
    { name: 'isp1', interface: 'eth1', gateway: '10.37.1.1', weight: 1 },
    { name: 'isp2', interface: 'eth2', gateway: '10.37.2.1', weight: 3 },
    { name: 'isp3', interface: 'eth3', snat: 'none' },
  ],
});

const byMap = defineStrategy({
  name: 'by-map',
  meta: { description: 'numgen map', schema: { type: 'object', additionalProperties: false, properties: {} } },
  select: ({ nft }) => {
    const { modulus, entries } = nft.weightEntries();
    return nft.map(nft.numgen('random', modulus), entries);
  },
});
const byVerdict = defineStrategy({
  name: 'by-verdict',
  meta: { description: 'vmap to pick chains', schema: { type: 'object', additionalProperties: false, properties: {} } },
  select: ({ nft, links }) => nft.vmap(nft.numgen('inc', 2), [{ from: 0, link: links[1] }, { from: 1, link: links[2] }]),
});
const constant = defineStrategy({
  name: 'constant',
  meta: { description: 'one link', schema: { type: 'object', additionalProperties: false, properties: {} } },
  select: ({ nft, links }) => nft.constant(links[1]),
});

const lines = (text: string) => text.split('\n').map((l) => l.trim());

describe('renderNft and reloads', () => {
  it('follows a selector that looks up a map with a constant for the connection whose lookup missed', () => {
    const nft = lines(render(model, byMap).nft);
    const selector = nft.findIndex((l) => l.startsWith('meta mark set numgen random'));
    expect(nft[selector + 1]).toBe('meta mark 0x0 meta mark set 0x1 comment "mwan: a connection that met a reload"');
    expect(nft[selector + 2]).toMatch(/^ct mark set meta mark/);
  });

  it('does so for verdict maps too, with a mark the strategy uses', () => {
    const nft = lines(render(model, byVerdict).nft);
    expect(nft).toContain('meta mark 0x0 meta mark set 0x2 comment "mwan: a connection that met a reload"');
  });

  it('adds nothing after a constant, which looks nothing up', () => {
    expect(render(model, constant).nft).not.toContain('met a reload');
  });

  it('chooses NAT with one map lookup, then a plain rule per natted link for a lookup that missed', () => {
    const nft = render(model, byMap).nft;
    const postrouting = nft.slice(nft.indexOf('chain postrouting {'), nft.indexOf('\n\t}\n', nft.indexOf('chain postrouting {')));
    expect(lines(postrouting).filter((l) => l.startsWith('oifname'))).toEqual([
      'oifname . meta mark vmap { "eth1" . 0x1 : goto snat_isp1, "eth2" . 0x2 : goto snat_isp2 }',
      'oifname "eth1" meta mark 0x1 goto snat_isp1',
      'oifname "eth2" meta mark 0x2 goto snat_isp2',
    ]);
  });

  it('tells LAN packets apart without a set lookup', () => {
    const twoLans = buildModel({ lan: ['eth0', 'br-lan'], links: [{ name: 'isp1', interface: 'eth1' }] });
    const nft = render(twoLans, byMap).nft;
    const prerouting = nft.slice(nft.indexOf('chain prerouting {'), nft.indexOf('\n\t}\n', nft.indexOf('chain prerouting {')));
    expect(lines(prerouting).slice(1).filter(Boolean)).toEqual(['type filter hook prerouting priority mangle; policy accept;', 'iifname "eth0" jump lan', 'iifname "br-lan" jump lan']);
    expect(nft).not.toContain('@');
  });
});
