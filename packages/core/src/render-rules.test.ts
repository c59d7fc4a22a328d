import { describe, expect, it } from '@jest/globals';
import type { Config, RuleConfig } from './config-types.js';
import { MwanError } from './errors.js';
import { buildModel } from './model.js';
import { render } from './render.js';
import { ruleComment } from './render-rules.js';
import { defineStrategy, type Strategy } from './strategy.js';

const config = (rules: RuleConfig[]): Config => ({
  lan: ['eth0'],
  links: [
    { name: 'fibre', interface: 'eth1', weight: 3 },
    { name: 'dsl', interface: 'eth2' },
    { name: 'lte', interface: 'eth3', priority: 1 },
  ],
  rules,
});

const spread = defineStrategy<{ mode?: string }>({
  name: 'spread',
  meta: { description: 'by weight', schema: { type: 'object', additionalProperties: false, properties: { mode: { enum: ['inc'] } } } },
  select: ({ nft }) => {
    const { modulus, entries } = nft.weightEntries();
    return nft.vmap(nft.numgen('inc', modulus), entries);
  },
});
const first = defineStrategy({ name: 'first', meta: { description: 'the first link' }, select: ({ nft, links }) => nft.constant(links[0]) });
const strategies = new Map<string, Strategy<unknown>>([['first', first]]);

const lines = (text: string) => text.split('\n').map((l) => l.trim());
function chainOf(nft: string, name: string): string[] {
  const start = nft.indexOf(`\tchain ${name} {\n`);
  if (start < 0) return [];
  return lines(nft.slice(start, nft.indexOf('\n\t}\n', start))).slice(1).filter(Boolean);
}

const issueRules: RuleConfig[] = [
  { name: 'voip', match: { protocol: 'udp', port: 5060 }, links: ['fibre'] },
  { name: 'vpn', match: { destination: '10.8.0.0/16' }, exclude: true },
  { name: 'bank', match: { protocol: 'tcp', port: [443, '8443-8449'] }, sticky: 600 },
];

describe('rendering policy rules', () => {
  it('sends new connections to each rule\'s chain by a few lookups, before the global strategy', () => {
    const { nft, policy } = render(buildModel(config(issueRules)), spread);
    const lan = chainOf(nft, 'lan');
    const at = lan.indexOf('fib daddr type { local, broadcast, multicast } return');
    expect(lan.slice(at + 1, at + 4)).toEqual([
      'meta l4proto . th dport vmap { udp . 5060 : goto rule_voip } comment "mwan: rule voip"',
      'ip daddr vmap { 10.8.0.0/16 : goto rule_vpn } comment "mwan: rule vpn"',
      'meta l4proto . th dport vmap { tcp . 443 : goto rule_bank, tcp . 8443-8449 : goto rule_bank } comment "mwan: rule bank"',
    ]);
    expect(lan[at + 4]).toMatch(/^numgen inc mod 5 vmap .* comment "mwan: strategy spread"$/);
    expect(chainOf(nft, 'rule_voip')).toEqual(['counter name "rule.voip" comment "mwan: rule voip"', 'numgen inc mod 1 vmap { 0 : goto pick_fibre } comment "mwan: rule voip: spread over fibre"']);
    expect(chainOf(nft, 'rule_vpn')).toEqual(['counter name "rule.vpn" comment "mwan: rule vpn"', 'return comment "mwan: rule vpn: excluded: the main table routes it"']);
    expect(nft).toContain('\tcounter rule.bank {\n\t\tcomment "mwan: rule bank"\n\t}\n');
    expect(policy).toEqual([
      { name: 'voip', kind: 'links', links: ['fibre'], strategy: 'spread' },
      { name: 'vpn', kind: 'exclude', links: [] },
      { name: 'bank', kind: 'global', links: ['fibre', 'dsl', 'lte'], strategy: 'spread', sticky: 600 },
    ]);
  });

  it('remembers a sticky rule\'s sources per link: a lookup per link, then the strategy into chains that add the source', () => {
    const { nft, sticky } = render(buildModel(config(issueRules)), spread, { active: ['fibre', 'dsl'] });
    expect(chainOf(nft, 'rule_bank')).toEqual([
      'counter name "rule.bank" comment "mwan: rule bank"',
      'ip saddr @sticky.bank.fibre goto sticky.bank.fibre comment "mwan: rule bank: sticky to fibre"',
      'ip saddr @sticky.bank.dsl goto sticky.bank.dsl comment "mwan: rule bank: sticky to dsl"',
      'numgen inc mod 4 vmap { 0-2 : goto sticky.bank.fibre, 3 : goto sticky.bank.dsl } comment "mwan: rule bank: spread over fibre dsl"',
      'goto sticky.bank.fibre comment "mwan: a connection that met a reload"',
    ]);
    expect(chainOf(nft, 'sticky.bank.dsl')).toEqual(['update @sticky.bank.dsl { ip saddr } goto pick_dsl']);
    expect(nft).toContain('\tset sticky.bank.fibre {\n\t\ttype ipv4_addr\n\t\tsize 65535\n\t\tflags dynamic,timeout\n\t\ttimeout 600s\n');
    // lte is not in use: no set, so its sources are released.
    expect(nft).not.toContain('sticky.bank.lte');
    expect(sticky).toEqual([{ name: 'sticky.bank.fibre', seconds: 600 }, { name: 'sticky.bank.dsl', seconds: 600 }]);
  });

  it('balances over the rule\'s healthy links of their best tier, falls back to the others, or refuses', () => {
    const model = buildModel(config([
      { name: 'pinned', match: { port: 1 }, links: ['fibre', 'lte'] },
      { name: 'strict', match: { port: 2 }, links: ['fibre'], fallback: 'none' },
      { name: 'backup', match: { port: 3 }, links: ['lte'], strategy: 'first' },
    ]));
    const healthy = render(model, spread, { strategies });
    expect(healthy.policy.map((p) => [p.name, p.kind, p.links])).toEqual([['pinned', 'links', ['fibre']], ['strict', 'links', ['fibre']], ['backup', 'links', ['lte']]]);

    const fibreDown = render(model, spread, { active: ['dsl'], healthy: ['dsl', 'lte'], strategies });
    expect(fibreDown.policy.map((p) => [p.name, p.kind, p.links])).toEqual([['pinned', 'links', ['lte']], ['strict', 'refuse', []], ['backup', 'links', ['lte']]]);
    expect(chainOf(fibreDown.nft, 'rule_strict')).toEqual([
      'counter name "rule.strict" comment "mwan: rule strict"',
      'meta l4proto tcp reject with tcp reset comment "mwan: rule strict: no link of its own is up"',
      'reject with icmp admin-prohibited',
    ]);
    // lte carries the rules' connections though the global strategy does not use it: its pick chain exists.
    expect(chainOf(fibreDown.nft, 'pick_lte')).toHaveLength(2);

    const lteDown = render(model, spread, { active: ['fibre', 'dsl'], healthy: ['fibre', 'dsl'], strategies });
    expect(lteDown.policy.map((p) => [p.name, p.kind, p.links])).toEqual([['pinned', 'links', ['fibre']], ['strict', 'links', ['fibre']], ['backup', 'fallback', ['fibre', 'dsl']]]);
    expect(chainOf(lteDown.nft, 'rule_backup')).toEqual([
      'counter name "rule.backup" comment "mwan: rule backup"',
      'goto pick_fibre comment "mwan: rule backup: fallback: first over fibre"',
    ]);
    expect(lteDown.nft).not.toContain('pick_lte');
  });

  it('runs a rule\'s own strategy with its options, and names the rule when they are wrong', () => {
    const model = buildModel(config([{ name: 'a', match: { port: 1 }, links: ['fibre', 'dsl'], strategy: { name: 'spread', options: { mode: 'inc' } } }]));
    const own = new Map<string, Strategy<unknown>>([['spread', spread]]);
    expect(render(model, first, { strategies: own }).policy[0].strategy).toBe('spread');
    const bad = buildModel(config([{ name: 'a', match: { port: 1 }, links: ['lte'], fallback: 'none', strategy: { name: 'spread', options: { mode: 'x' } } }]));
    // Checked even while the rule refuses (its link is down).
    const error = (() => {
      try {
        render(bad, first, { strategies: own, healthy: ['fibre'] });
      } catch (e) {
        return e as MwanError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(MwanError);
    expect(error?.problems[0]).toMatch(/^rules\[0\]: strategy "spread": options\.mode/);
  });

  it('writes comments that fit the renderer\'s quoting', () => {
    expect(ruleComment('rule a: x over fibre, dsl')).toBe('comment "mwan: rule a: x over fibre: dsl"');
    expect(ruleComment(`rule ${'r'.repeat(32)}: weighted over ${'l'.repeat(15)} ${'m'.repeat(15)}`)).toMatch(/^comment "mwan: r.{54}\.\.\."$/);
  });

  it('renders nothing for a config without rules', () => {
    const { nft, policy, sticky } = render(buildModel(config([])), spread);
    expect(nft).not.toMatch(/rule|sticky/);
    expect(policy).toEqual([]);
    expect(sticky).toEqual([]);
  });
});
