import { describe, expect, it } from '@jest/globals';
import type { Config } from './config-types.js';
import { buildModel } from './model.js';
import { render } from './render.js';
import { defineStrategy } from './strategy.js';

const config: Config = {
  lan: ['eth0'],
  links: [
    { name: 'isp1', interface: 'eth1', gateway: '10.37.1.1', weight: 1 },
    { name: 'isp2', interface: 'eth2', gateway: '10.37.2.1', weight: 3 },
    { name: 'isp3', interface: 'eth3', snat: 'none' },
  ],
};
const model = buildModel(config);

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
/** The lines of one chain, without its braces. */
function chainOf(nft: string, name: string): string[] {
  const start = nft.indexOf(`\tchain ${name} {\n`);
  if (start < 0) return [];
  return lines(nft.slice(start, nft.indexOf('\n\t}\n', start))).slice(1).filter(Boolean);
}

describe('renderNft and reloads', () => {
  it('follows a selector that looks up a map with a plain goto for the connection whose lookup missed', () => {
    const lan = chainOf(render(model, byMap).nft, 'lan');
    const selector = lan.findIndex((l) => l.startsWith('numgen random'));
    expect(lan[selector]).toBe('numgen random mod 5 vmap { 0 : goto pick_isp1, 1-3 : goto pick_isp2, 4 : goto pick_isp3 } comment "mwan: strategy by-map"');
    expect(lan[selector + 1]).toBe('goto pick_isp1 comment "mwan: a connection that met a reload"');
    expect(lan).toHaveLength(selector + 2);
  });

  it('does so for verdict maps too, with a link the strategy uses', () => {
    const lan = chainOf(render(model, byVerdict).nft, 'lan');
    expect(lan).toContain('numgen inc mod 2 vmap { 0 : goto pick_isp2, 1 : goto pick_isp3 } comment "mwan: strategy by-verdict"');
    expect(lan).toContain('goto pick_isp2 comment "mwan: a connection that met a reload"');
  });

  it('adds nothing after a constant, which looks nothing up', () => {
    const nft = render(model, constant).nft;
    expect(chainOf(nft, 'lan').at(-1)).toBe('goto pick_isp2 comment "mwan: strategy constant"');
    expect(nft).not.toContain('met a reload');
  });

  it('restores with one map lookup, then a plain rule per link for a lookup that missed', () => {
    const nft = render(model, byMap).nft;
    expect(chainOf(nft, 'lan').slice(0, 3)).toEqual([
      'meta nfproto != ipv4 return',
      'ct mark & 0xff vmap { 0x1 : goto restore_isp1, 0x2 : goto restore_isp2, 0x3 : goto restore_isp3 } comment "mwan: restore the link of a connection"',
      'ct mark & 0xff != 0x0 goto missed_restore',
    ]);
    expect(chainOf(nft, 'missed_restore')).toEqual([
      'ct mark & 0xff == 0x1 goto restore_isp1',
      'ct mark & 0xff == 0x2 goto restore_isp2',
      'ct mark & 0xff == 0x3 goto restore_isp3',
    ]);
  });

  it('chooses NAT by outgoing interface with one map lookup, then a plain rule per natted link for a lookup that missed', () => {
    expect(chainOf(render(model, byMap).nft, 'postrouting').filter((l) => l.startsWith('oifname'))).toEqual([
      'oifname vmap { "eth1" : goto snat_isp1, "eth2" : goto snat_isp2 }',
      'oifname "eth1" goto snat_isp1',
      'oifname "eth2" goto snat_isp2',
    ]);
  });

  it('tells LAN packets apart without a set lookup', () => {
    const twoLans = buildModel({ lan: ['eth0', 'br-lan'], links: [{ name: 'isp1', interface: 'eth1' }] });
    const nft = render(twoLans, byMap).nft;
    expect(chainOf(nft, 'prerouting').slice(0, 3)).toEqual(['type filter hook prerouting priority mangle; policy accept;', 'iifname "eth0" goto lan', 'iifname "br-lan" goto lan']);
    expect(nft).not.toContain('@');
  });
});

describe('renderNft and the mark mask', () => {
  const masked = buildModel({ ...config, markMask: 0xff00 });

  it('allocates marks inside the mask and writes only its bits of the packet and ct marks', () => {
    expect(masked.links.map((l) => l.mark)).toEqual([0x100, 0x200, 0x300]);
    const nft = render(masked, byMap).nft;
    expect(chainOf(nft, 'pick_isp2')).toEqual([
      'meta mark set meta mark & 0xffff00ff | 0x200',
      'ct mark set ct mark & 0xffff00ff | 0x200 counter name "isp2"',
    ]);
    expect(chainOf(nft, 'restore_isp3')).toEqual(['meta mark set meta mark & 0xffff00ff | 0x300']);
    // Every write of a mark keeps the bits outside the mask; every read looks at the mask's bits
    // only, but for the one that leaves a socket's own mark (any bit) alone.
    for (const line of lines(nft).filter((l) => !l.includes('a socket that sets its own mark'))) {
      if (/mark set/.test(line)) expect(line).toMatch(/(meta|ct) mark set \1 mark & 0xffff00ff \| 0x[0-9a-f]+( |$)/);
      for (const read of line.matchAll(/(?:ct|meta) mark (?!set)(\S+)/g)) expect(read[1]).toBe('&');
    }
  });

  it('gives a new connection on a link that link in the ct mark only, when nothing gave it one', () => {
    const prerouting = chainOf(render(masked, byMap).nft, 'prerouting');
    expect(prerouting.slice(2)).toEqual([
      'ct state != new return',
      'meta nfproto != ipv4 return',
      'iifname "eth1" ct mark & 0xff00 == 0x0 ct mark set ct mark & 0xffff00ff | 0x100 comment "mwan: inbound on link isp1"',
      'iifname "eth2" ct mark & 0xff00 == 0x0 ct mark set ct mark & 0xffff00ff | 0x200 comment "mwan: inbound on link isp2"',
      'iifname "eth3" ct mark & 0xff00 == 0x0 ct mark set ct mark & 0xffff00ff | 0x300 comment "mwan: inbound on link isp3"',
    ]);
    expect(chainOf(render(buildModel({ ...config, inbound: false }), byMap).nft, 'prerouting')).toEqual(['type filter hook prerouting priority mangle; policy accept;', 'iifname "eth0" goto lan']);
  });
});

describe('renderNft and the router\'s own traffic', () => {
  const output = (cfg: Config, active?: string[]) => {
    const nft = render(buildModel(cfg), byMap, active ? { active } : {}).nft;
    return { output: chainOf(nft, 'output'), balance: chainOf(nft, 'balance'), nft };
  };

  it('restores the link of its replies and of its connections, leaving sockets with a mark of their own alone', () => {
    const { output: chain, balance } = output(config);
    expect(chain).toEqual([
      'type route hook output priority mangle; policy accept;',
      'meta nfproto != ipv4 return',
      'meta mark != 0x0 return comment "mwan: a socket that sets its own mark"',
      'ct mark & 0xff vmap { 0x1 : goto restore_isp1, 0x2 : goto restore_isp2, 0x3 : goto restore_isp3 } comment "mwan: restore the link of a connection"',
      'ct mark & 0xff != 0x0 goto missed_restore',
    ]);
    expect(balance).toEqual([]);
  });

  it('moves new connections about to leave by a link that is down to a healthy link', () => {
    const { output: chain, balance } = output(config, ['isp2', 'isp3']);
    expect(chain.slice(5)).toEqual(['ct state != new return', 'oifname "eth1" goto balance comment "mwan: router connection on down link isp1"']);
    expect(balance).toEqual([
      'numgen random mod 4 vmap { 0-2 : goto pick_isp2, 3 : goto pick_isp3 } comment "mwan: strategy by-map"',
      'goto pick_isp2 comment "mwan: a connection that met a reload"',
    ]);
  });

  it('balances every new connection that leaves by a link with "balance", and none with "off"', () => {
    expect(output({ ...config, routerTraffic: 'balance' }).output.slice(6)).toEqual([
      'oifname "eth1" goto balance comment "mwan: router connection on link isp1"',
      'oifname "eth2" goto balance comment "mwan: router connection on link isp2"',
      'oifname "eth3" goto balance comment "mwan: router connection on link isp3"',
    ]);
    expect(output({ ...config, routerTraffic: 'off' }, ['isp2']).output).toHaveLength(5);
    expect(output({ ...config, routerTraffic: 'off', inbound: false }).nft).not.toContain('chain output');
  });

  it('NATs the router\'s own connections only when mwan moved them', () => {
    expect(chainOf(output(config).nft, 'postrouting')[1]).toBe('meta mark & 0xff == 0x0 fib saddr type local return comment "mwan: router connection on its usual route"');
  });
});
