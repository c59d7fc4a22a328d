import type { Config, PortValue, RuleConfig, RuleMatch, StrategyConfig } from './config-types.js';
import { showValue } from './json-path.js';

/**
 * Policy rules: the config's `rules` as a model (every value a list of disjoint spans), the checks
 * across fields the schema cannot make, and the grouping that lets many rules cost a few lookups
 * instead of one test per rule (see groupRules).
 */

/** An inclusive range of numbers: addresses as 32-bit integers, ports, protocol numbers, LAN indexes. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

/** The fields a rule matches on, in the order a concatenated lookup lists them. */
export const MATCH_FIELDS = ['lan', 'source', 'destination', 'protocol', 'sourcePort', 'port'] as const;
export type MatchField = (typeof MATCH_FIELDS)[number];

/** The nft expression of each field. */
export const MATCH_KEYS: Readonly<Record<MatchField, string>> = Object.freeze({
  lan: 'iifname',
  source: 'ip saddr',
  destination: 'ip daddr',
  protocol: 'meta l4proto',
  sourcePort: 'th sport',
  port: 'th dport',
});

/** Protocol names the schema accepts, with their numbers. */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = Object.freeze({
  icmp: 1, igmp: 2, ipip: 4, tcp: 6, egp: 8, udp: 17, dccp: 33, ipv6: 41, gre: 47, esp: 50, ah: 51,
  ospf: 89, pim: 103, vrrp: 112, l2tp: 115, sctp: 132, udplite: 136,
});

/** Protocols with ports at the start of their header (what `th sport`/`th dport` read). */
export const PORT_PROTOCOLS: readonly number[] = Object.freeze([6, 17, 33, 132, 136]);
const PORT_PROTOCOL_NAMES = 'tcp, udp, dccp, sctp or udplite';

/** A rule's lists multiply (sources × destinations × protocols × ports …): at most this many combinations. */
export const MAX_RULE_ELEMENTS = 4096;

export const DEFAULT_FALLBACK = 'any';

/** A rule with every value resolved. */
export interface RuleModel {
  name: string;
  /**
   * The fields the rule tests, each a sorted list of disjoint spans; a field absent takes any
   * value. `lan` holds indexes into the model's `lan`. A port without a protocol implies the
   * protocols that have ports.
   */
  match: Partial<Record<MatchField, readonly Span[]>>;
  exclude: boolean;
  /** Balance over these links only (config order kept by the renderer); absent: the global links. */
  links?: string[];
  fallback: 'any' | 'none';
  /** Absent: the global strategy. */
  strategy?: { name: string; options: Record<string, unknown> };
  /** Seconds a source keeps the link of its last matching connection. */
  sticky?: number;
}

const listOf = <T>(value: T | T[] | undefined): T[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

/** `a.b.c.d` → its 32-bit value; undefined when not an address. */
export function ipv4Value(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export const ipv4Text = (value: number): string => [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');

/** `a.b.c.d[/n]` → its span; the host bits are ignored here (verifyRules refuses them). */
export function cidrSpan(text: string): Span {
  const [address, prefix] = text.split('/');
  const bits = prefix === undefined ? 32 : Number(prefix);
  const size = 2 ** (32 - bits);
  const from = Math.floor((ipv4Value(address) ?? 0) / size) * size;
  return { from, to: from + size - 1 };
}

export function portSpan(value: PortValue): Span {
  if (typeof value === 'number') return { from: value, to: value };
  const [from, to] = value.split('-').map(Number);
  return { from, to };
}

export const protocolNumber = (value: string | number): number => (typeof value === 'number' ? value : PROTOCOL_NUMBERS[value]);

/** Sorted, overlapping and adjacent spans merged. */
export function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: Span[] = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last && span.from <= last.to + 1) out[out.length - 1] = { from: last.from, to: Math.max(last.to, span.to) };
    else out.push({ from: span.from, to: span.to });
  }
  return out;
}

const singles = (values: readonly number[]): Span[] => [...new Set(values)].sort((a, b) => a - b).map((v) => ({ from: v, to: v }));

/** Whether two sorted lists of disjoint spans share a value. */
export function spansIntersect(a: readonly Span[], b: readonly Span[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i].to < b[j].from) i++;
    else if (b[j].to < a[i].from) j++;
    else return true;
  }
  return false;
}

function strategyOf(value: string | StrategyConfig | undefined): RuleModel['strategy'] {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? { name: value, options: {} } : { name: value.name, options: { ...(value.options ?? {}) } };
}

function matchOf(match: RuleMatch, lan: readonly string[]): RuleModel['match'] {
  const out: Partial<Record<MatchField, Span[]>> = {};
  const lans = listOf(match.lan);
  // Names and protocols are values, not ranges: one span each.
  if (lans) out.lan = singles(lans.map((name) => lan.indexOf(name)).filter((i) => i >= 0));
  const source = listOf(match.source);
  if (source) out.source = mergeSpans(source.map(cidrSpan));
  const destination = listOf(match.destination);
  if (destination) out.destination = mergeSpans(destination.map(cidrSpan));
  const protocol = listOf(match.protocol);
  const sourcePort = listOf(match.sourcePort);
  const port = listOf(match.port);
  if (protocol) out.protocol = singles(protocol.map(protocolNumber));
  else if (sourcePort || port) out.protocol = singles(PORT_PROTOCOLS);
  if (sourcePort) out.sourcePort = mergeSpans(sourcePort.map(portSpan));
  if (port) out.port = mergeSpans(port.map(portSpan));
  return out;
}

/** The config's rules as models. Assumes a config that passed the schema and verifyRules. */
export function ruleModels(config: Config): RuleModel[] {
  return (config.rules ?? []).map((rule): RuleModel => {
    const strategy = strategyOf(rule.strategy);
    return {
      name: rule.name,
      match: matchOf(rule.match, config.lan),
      exclude: rule.exclude === true,
      ...(rule.links ? { links: [...rule.links] } : {}),
      fallback: rule.fallback ?? DEFAULT_FALLBACK,
      ...(strategy ? { strategy } : {}),
      ...(rule.sticky !== undefined ? { sticky: rule.sticky } : {}),
    };
  });
}

/** Fields the rule tests (after defaults: ports imply protocols). */
export const fieldsOf = (rule: Pick<RuleModel, 'match'>): MatchField[] => MATCH_FIELDS.filter((f) => rule.match[f] !== undefined);

/** Whether one new connection could match both rules. */
export function rulesOverlap(a: Pick<RuleModel, 'match'>, b: Pick<RuleModel, 'match'>): boolean {
  return MATCH_FIELDS.every((f) => {
    const x = a.match[f];
    const y = b.match[f];
    return x === undefined || y === undefined || spansIntersect(x, y);
  });
}

/** How many lookup elements the rule needs: the product of its fields' span counts. */
export const elementCount = (rule: Pick<RuleModel, 'match'>): number => fieldsOf(rule).reduce((n, f) => n * (rule.match[f]?.length ?? 1), 1);

/** Rules that one lookup decides: the same fields, no two of them able to match one connection. */
export interface RuleGroup {
  fields: MatchField[];
  rules: RuleModel[];
}

/**
 * First match wins, in config order. Rules that test the same fields and cannot match the same
 * connection are decided by one verdict-map lookup on the concatenation of those fields, so 100
 * rules on ports or destinations cost one lookup, not 100 tests. A rule joins the latest group of
 * its shape that it can be moved up to: moving it past a rule it cannot overlap changes nothing,
 * and it never moves past one it could overlap (that rule comes first for the connections both
 * match). Groups are looked up in order.
 */
export function groupRules(rules: readonly RuleModel[]): RuleGroup[] {
  const groups: RuleGroup[] = [];
  for (const rule of rules) {
    const fields = fieldsOf(rule);
    const shape = fields.join(',');
    let target: RuleGroup | undefined;
    for (let g = groups.length - 1; g >= 0; g--) {
      const group = groups[g];
      const blocked = group.rules.some((other) => rulesOverlap(rule, other));
      if (!blocked && group.fields.join(',') === shape && fields.length > 0) {
        target = group;
        break;
      }
      if (blocked) break;
    }
    if (target) target.rules.push(rule);
    else groups.push({ fields, rules: [rule] });
  }
  return groups;
}

/** Every combination of the rule's spans over `fields`, one span per field. */
export function ruleElements(rule: Pick<RuleModel, 'match'>, fields: readonly MatchField[]): Span[][] {
  let out: Span[][] = [[]];
  for (const field of fields) {
    const spans = rule.match[field] ?? [];
    out = out.flatMap((prefix) => spans.map((span) => [...prefix, span]));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checks across fields (after the schema): one line per problem, each naming its path.

const isEmptyMatch = (match: RuleMatch): boolean => Object.values(match).every((v) => v === undefined);

/**
 * The rules' checks the schema cannot make: unknown links and LAN interfaces, duplicate names,
 * ranges from high to low, addresses with host bits, ports on protocols without ports, rules no
 * connection can reach, actions that contradict each other.
 */
export function verifyRules(config: Config): string[] {
  const rules = config.rules ?? [];
  const problems: string[] = [];
  const linkNames = config.links.map((l) => l.name);
  const names = new Map<string, number>();
  let takesAll: number | undefined;
  rules.forEach((rule, i) => {
    const at = `rules[${i}]`;
    const earlier = names.get(rule.name);
    if (earlier !== undefined) problems.push(`${at}.name: ${showValue(rule.name)} is already used by rules[${earlier}]`);
    else names.set(rule.name, i);
    if (takesAll !== undefined) {
      problems.push(`${at}: never matches: rules[${takesAll}] (${showValue(rules[takesAll].name)}) has an empty match and takes every new connection`);
    }
    problems.push(...actionProblems(rule, at, linkNames));
    problems.push(...matchProblems(rule.match, `${at}.match`, config.lan));
    if (isEmptyMatch(rule.match) && takesAll === undefined) takesAll = i;
  });
  return problems;
}

function actionProblems(rule: RuleConfig, at: string, linkNames: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  (rule.links ?? []).forEach((name, k) => {
    if (!linkNames.includes(name)) problems.push(`${at}.links[${k}]: ${showValue(name)} is not a link (links: ${linkNames.join(', ')})`);
    const first = seen.get(name);
    if (first !== undefined) problems.push(`${at}.links[${k}]: ${showValue(name)} is already listed at ${at}.links[${first}]`);
    else seen.set(name, k);
  });
  if (rule.exclude === true) {
    for (const field of ['links', 'strategy', 'sticky', 'fallback'] as const) {
      if (rule[field] !== undefined) problems.push(`${at}.${field}: cannot go with "exclude": excluded traffic is not balanced`);
    }
  } else {
    if (rule.fallback !== undefined && rule.links === undefined) problems.push(`${at}.fallback: only with "links" (what to do when none of them is healthy)`);
    if (rule.links === undefined && rule.strategy === undefined && rule.sticky === undefined) {
      problems.push(`${at}: no action: give "links", "exclude": true, "strategy" or "sticky"`);
    }
  }
  return problems;
}

function matchProblems(match: RuleMatch, at: string, lan: readonly string[]): string[] {
  const problems: string[] = [];
  const each = <T>(field: keyof RuleMatch, check: (value: T, path: string) => string | undefined) => {
    const value = match[field] as T | T[] | undefined;
    if (value === undefined) return;
    const list = Array.isArray(value) ? value : [value];
    list.forEach((item, k) => {
      const problem = check(item, Array.isArray(value) ? `${at}.${field}[${k}]` : `${at}.${field}`);
      if (problem) problems.push(problem);
    });
  };
  const cidr = (text: string, path: string) => {
    const [address, prefix] = text.split('/');
    if (prefix === undefined) return undefined;
    const span = cidrSpan(text);
    return ipv4Value(address) !== span.from ? `${path}: ${showValue(text)} has host bits set; the network is "${ipv4Text(span.from)}/${prefix}"` : undefined;
  };
  each<string>('source', cidr);
  each<string>('destination', cidr);
  const port = (value: PortValue, path: string) => {
    if (typeof value === 'number') return undefined;
    const { from, to } = portSpan(value);
    if (from < 1 || to > 65535) return `${path}: ${showValue(value)} is not a range of ports from 1 to 65535`;
    if (from > to) return `${path}: ${showValue(value)} goes from high to low; write "${to}-${from}"`;
    return undefined;
  };
  each<PortValue>('port', port);
  each<PortValue>('sourcePort', port);
  each<string>('lan', (name, path) => (lan.includes(name) ? undefined : `${path}: ${showValue(name)} is not a LAN interface (lan: ${lan.join(', ')})`));
  if (match.port !== undefined || match.sourcePort !== undefined) {
    const portField = match.port !== undefined ? 'port' : 'sourcePort';
    each<string | number>('protocol', (value, path) => (PORT_PROTOCOLS.includes(protocolNumber(value))
      ? undefined
      : `${path}: ${showValue(value)} has no ports, but ${at}.${portField} needs them (${PORT_PROTOCOL_NAMES})`));
  }
  if (!problems.length) {
    const count = elementCount({ match: matchOf(match, lan) });
    if (count > MAX_RULE_ELEMENTS) problems.push(`${at}: its lists make ${count} combinations (their sizes multiplied); at most ${MAX_RULE_ELEMENTS}: split the rule`);
  }
  return problems;
}
