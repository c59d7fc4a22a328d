import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Config, RuleConfig } from './config-types.js';
import { buildModel } from './model.js';
import {
  cidrSpan, elementCount, groupRules, MATCH_FIELDS, mergeSpans, ruleElements, ruleModels, rulesOverlap, verifyRules,
  type MatchField, type RuleModel, type Span,
} from './rules.js';
import { validateConfig } from './load-config.js';

const base: Config = {
  lan: ['eth0', 'eth4'],
  links: [
    { name: 'fibre', interface: 'eth1' },
    { name: 'dsl', interface: 'eth2' },
  ],
};
const withRules = (rules: RuleConfig[]): Config => ({ ...base, rules });

describe('rule model', () => {
  it('resolves the issue\'s example: lists, ranges, implied protocols, defaults', () => {
    const [voip, vpn, bank] = ruleModels(withRules([
      { name: 'voip', match: { protocol: 'udp', port: 5060 }, links: ['fibre'] },
      { name: 'vpn', match: { destination: '10.8.0.0/16' }, exclude: true },
      { name: 'bank', match: { port: [443, '8443-8449', 444] }, sticky: 600 },
    ]));
    expect(voip).toEqual({ name: 'voip', match: { protocol: [{ from: 17, to: 17 }], port: [{ from: 5060, to: 5060 }] }, exclude: false, links: ['fibre'], fallback: 'any' });
    expect(vpn.match.destination).toEqual([{ from: 0x0a080000, to: 0x0a08ffff }]);
    expect(vpn.exclude).toBe(true);
    // A port without a protocol: the protocols that have ports. 443 and 444 merge.
    expect(bank.match.protocol?.map((s) => s.from)).toEqual([6, 17, 33, 132, 136]);
    expect(bank.match.port).toEqual([{ from: 443, to: 444 }, { from: 8443, to: 8449 }]);
    expect(bank.sticky).toBe(600);
    expect(bank.links).toBeUndefined();
  });

  it('keeps LAN interfaces as indexes and a rule\'s own strategy with its options', () => {
    const [rule] = ruleModels(withRules([{ name: 'g', match: { lan: ['eth4', 'eth0', 'eth4'] }, strategy: { name: 'source-hash', options: { seed: 3 } } }]));
    expect(rule.match.lan).toEqual([{ from: 0, to: 0 }, { from: 1, to: 1 }]);
    expect(rule.strategy).toEqual({ name: 'source-hash', options: { seed: 3 } });
  });

  it('is part of the model, empty without rules', () => {
    expect(buildModel(base).rules).toEqual([]);
    expect(buildModel(withRules([{ name: 'a', match: {}, sticky: 5 }])).rules?.map((r) => r.name)).toEqual(['a']);
  });

  it('merges spans and reads networks', () => {
    expect(mergeSpans([{ from: 5, to: 9 }, { from: 1, to: 2 }, { from: 3, to: 4 }, { from: 20, to: 20 }])).toEqual([{ from: 1, to: 9 }, { from: 20, to: 20 }]);
    expect(cidrSpan('192.168.1.0/24')).toEqual({ from: 0xc0a80100, to: 0xc0a801ff });
    expect(cidrSpan('0.0.0.0/0')).toEqual({ from: 0, to: 0xffffffff });
    expect(cidrSpan('10.0.0.7')).toEqual({ from: 0x0a000007, to: 0x0a000007 });
  });

  it('counts the combinations a rule needs and lists them', () => {
    const [rule] = ruleModels(withRules([{ name: 'a', match: { source: ['10.0.0.0/8', '172.16.0.0/12'], protocol: ['tcp', 'udp'], port: [80, 443] }, sticky: 1 }]));
    expect(elementCount(rule)).toBe(8);
    expect(ruleElements(rule, ['source', 'protocol', 'port'])).toHaveLength(8);
  });
});

describe('rule checks across fields', () => {
  const problems = (rules: RuleConfig[]) => verifyRules(withRules(rules));

  it('names the path of an unknown link, a link listed twice and a duplicate rule name', () => {
    expect(problems([
      { name: 'a', match: { port: 1 }, links: ['fibre', 'cable', 'fibre'] },
      { name: 'a', match: { port: 2 }, links: ['dsl'] },
    ])).toEqual([
      'rules[0].links[1]: "cable" is not a link (links: fibre, dsl)',
      'rules[0].links[2]: "fibre" is already listed at rules[0].links[0]',
      'rules[1].name: "a" is already used by rules[0]',
    ]);
  });

  it('refuses every rule after one whose empty match takes everything', () => {
    expect(problems([
      { name: 'all', match: {}, links: ['dsl'] },
      { name: 'b', match: { port: 2 }, links: ['dsl'] },
      { name: 'c', match: { source: '10.0.0.0/8' }, exclude: true },
    ])).toEqual([
      'rules[1]: never matches: rules[0] ("all") has an empty match and takes every new connection',
      'rules[2]: never matches: rules[0] ("all") has an empty match and takes every new connection',
    ]);
    expect(problems([{ name: 'b', match: { port: 2 }, links: ['dsl'] }, { name: 'all', match: {}, links: ['dsl'] }])).toEqual([]);
  });

  it('refuses contradicting or missing actions', () => {
    expect(problems([
      { name: 'a', match: { port: 1 }, exclude: true, links: ['dsl'], sticky: 5, strategy: 'round-robin', fallback: 'none' },
      { name: 'b', match: { port: 2 } },
      { name: 'c', match: { port: 3 }, fallback: 'none', sticky: 9 },
      { name: 'd', match: { port: 4 }, exclude: false, sticky: 9 },
    ])).toEqual([
      'rules[0].links: cannot go with "exclude": excluded traffic is not balanced',
      'rules[0].strategy: cannot go with "exclude": excluded traffic is not balanced',
      'rules[0].sticky: cannot go with "exclude": excluded traffic is not balanced',
      'rules[0].fallback: cannot go with "exclude": excluded traffic is not balanced',
      'rules[1]: no action: give "links", "exclude": true, "strategy" or "sticky"',
      'rules[2].fallback: only with "links" (what to do when none of them is healthy)',
    ]);
  });

  it('checks values the schema lets through: ranges, host bits, LAN names, ports without a protocol that has them', () => {
    expect(problems([
      { name: 'a', match: { port: ['9000-8000', 80], sourcePort: '0-10', destination: ['10.8.0.1/16', '10.9.0.0/16'], lan: 'eth9' }, exclude: true },
      { name: 'b', match: { protocol: ['tcp', 'icmp', 47], port: 5060 }, links: ['dsl'] },
    ])).toEqual([
      'rules[0].match.destination[0]: "10.8.0.1/16" has host bits set; the network is "10.8.0.0/16"',
      'rules[0].match.port[0]: "9000-8000" goes from high to low; write "8000-9000"',
      'rules[0].match.sourcePort: "0-10" is not a range of ports from 1 to 65535',
      'rules[0].match.lan: "eth9" is not a LAN interface (lan: eth0, eth4)',
      'rules[1].match.protocol[1]: "icmp" has no ports, but rules[1].match.port needs them (tcp, udp, dccp, sctp or udplite)',
      'rules[1].match.protocol[2]: 47 has no ports, but rules[1].match.port needs them (tcp, udp, dccp, sctp or udplite)',
    ]);
  });

  it('refuses a rule whose lists multiply past the limit', () => {
    const ports = Array.from({ length: 200 }, (_, i) => i * 2 + 1);
    const sources = Array.from({ length: 30 }, (_, i) => `10.${i * 2}.0.0/16`);
    expect(problems([{ name: 'big', match: { source: sources, protocol: 'tcp', port: ports }, exclude: true }]))
      .toEqual(['rules[0].match: its lists make 6000 combinations (their sizes multiplied); at most 4096: split the rule']);
  });

  it('comes after the schema: validateConfig reports the rules\' problems as config errors', () => {
    expect(() => validateConfig(withRules([{ name: 'a', match: {}, links: ['nope'] }]))).toThrow('rules[0].links[0]: "nope" is not a link (links: fibre, dsl)');
    expect(() => validateConfig({ ...withRules([]), rules: [{ name: 'a', match: { port: 'x' }, links: ['dsl'] }] })).toThrow(/rules\[0\]\.match\.port/);
    expect(validateConfig(withRules([{ name: 'voip', match: { protocol: 'udp', port: 5060 }, links: ['fibre'] }])).rules).toHaveLength(1);
  });
});

/** Small domains, so random rules overlap often. */
const DOMAIN: Record<MatchField, number> = { lan: 2, source: 6, destination: 6, protocol: 3, sourcePort: 4, port: 6 };

const arbRule = (i: number) => fc.record(
  Object.fromEntries(MATCH_FIELDS.map((f) => [f, fc.option(
    fc.uniqueArray(fc.integer({ min: 0, max: DOMAIN[f] - 1 }), { minLength: 1, maxLength: 3 }),
    { nil: undefined, freq: 2 },
  )])) as Record<MatchField, fc.Arbitrary<number[] | undefined>>,
).map((values): RuleModel => ({
  name: `r${i}`,
  match: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined).map(([f, v]) => [f, mergeSpans((v as number[]).map((n) => ({ from: n, to: n })))])),
  exclude: true,
  fallback: 'any',
}));

const arbRules = fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbRule(i))));
const arbPacket = fc.record(Object.fromEntries(MATCH_FIELDS.map((f) => [f, fc.integer({ min: 0, max: DOMAIN[f] - 1 })])) as Record<MatchField, fc.Arbitrary<number>>);

const inSpans = (spans: readonly Span[] | undefined, v: number) => spans === undefined || spans.some((s) => s.from <= v && v <= s.to);
const matches = (rule: RuleModel, packet: Record<MatchField, number>) => MATCH_FIELDS.every((f) => inSpans(rule.match[f], packet[f]));

describe('grouping rules into lookups', () => {
  it('decides every connection as the first matching rule would, with no two rules of a group able to match one connection', () => {
    fc.assert(fc.property(arbRules, fc.array(arbPacket, { minLength: 20, maxLength: 20 }), (rules, packets) => {
      const groups = groupRules(rules);
      for (const group of groups) {
        for (const [i, a] of group.rules.entries()) {
          expect(Object.keys(a.match).sort()).toEqual([...group.fields].sort());
          for (const b of group.rules.slice(i + 1)) expect(rulesOverlap(a, b)).toBe(false);
        }
      }
      expect(groups.flatMap((g) => g.rules).map((r) => r.name).sort()).toEqual(rules.map((r) => r.name).sort());
      for (const packet of packets) {
        const linear = rules.find((r) => matches(r, packet))?.name;
        // The kernel: each group's lookup in turn; the first that finds an element decides.
        let looked: string | undefined;
        for (const group of groups) {
          const hit = group.rules.find((r) => matches(r, packet));
          if (hit) {
            looked = hit.name;
            break;
          }
        }
        expect(looked).toBe(linear);
      }
    }), { numRuns: 500 });
  });

  it('puts 100 rules on distinct ports into one lookup, and moves a rule up past rules it cannot overlap', () => {
    const many = ruleModels(withRules(Array.from({ length: 100 }, (_, i) => ({ name: `p${i}`, match: { protocol: 'tcp', port: 1000 + i }, links: ['dsl'] }))));
    expect(groupRules(many)).toHaveLength(1);
    const rules = ruleModels(withRules([
      { name: 'office', match: { destination: '10.1.0.0/16' }, exclude: true },
      { name: 'git', match: { destination: '10.9.0.0/16', protocol: 'tcp', port: 22 }, links: ['dsl'] },
      { name: 'lab', match: { destination: '10.2.0.0/16' }, exclude: true },
      { name: 'wide', match: { destination: '10.0.0.0/8' }, links: ['dsl'] },
    ]));
    expect(groupRules(rules).map((g) => g.rules.map((r) => r.name))).toEqual([['office', 'lab'], ['git'], ['wide']]);
  });

  it('never moves a rule past an earlier one it could overlap', () => {
    const rules = ruleModels(withRules([
      { name: 'voip', match: { protocol: 'udp', port: 5060 }, links: ['fibre'] },
      { name: 'vpn', match: { destination: '10.8.0.0/16' }, exclude: true },
      { name: 'bank', match: { protocol: 'tcp', port: 443 }, sticky: 600 },
    ]));
    expect(groupRules(rules).map((g) => g.rules.map((r) => r.name))).toEqual([['voip'], ['vpn'], ['bank']]);
  });
});
