import { hex, ruleArgs, type RuleSpec } from '@mwan/core';

/** One entry of `ip -N -json rule show` (numeric tables and protocols). */
export interface KernelRule {
  priority: number;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  iif?: string;
  oif?: string;
  fwmark?: string;
  fwmask?: string;
  table?: string;
  suppress_prefixlen?: number;
  protocol?: string;
  /** Set by the reader for IPv6 rules (`ip -6 rule show`); the kernel's JSON does not say. */
  family?: 'inet6';
  [field: string]: unknown;
}

/** A rule as the reconciler sees it: an identity to compare, and the arguments that add or delete exactly it. */
export interface RuleEntry {
  key: string;
  add: string[];
  del: string[];
}

const TABLE_NUMBERS: Readonly<Record<string, number>> = { main: 254, default: 253, local: 255 };
const FULL_MASK = 0xffffffff;

function tableNumber(table: string | number | undefined): string {
  if (table === undefined) return '254';
  return String(TABLE_NUMBERS[String(table)] ?? table);
}

function ruleKey(parts: { family?: string; pref: number; iif?: string; oif?: string; from?: string; to?: string; mark?: number; mask?: number; table: string; suppress?: number }): string {
  return [
    `pref ${parts.pref}`,
    parts.from ? `from ${parts.from}` : '',
    parts.to ? `to ${parts.to}` : '',
    parts.iif ? `iif ${parts.iif}` : '',
    parts.oif ? `oif ${parts.oif}` : '',
    parts.mark !== undefined ? `fwmark ${hex(parts.mark)}/${hex(parts.mask ?? FULL_MASK)}` : '',
    `lookup ${parts.table}`,
    parts.suppress !== undefined ? `suppress_prefixlength ${parts.suppress}` : '',
    parts.family === 'inet6' ? 'family inet6' : '',
  ].filter(Boolean).join(' ');
}

export function ruleEntryFromSpec(spec: RuleSpec): RuleEntry {
  return {
    key: ruleKey({ family: spec.family, pref: spec.pref, iif: spec.iif, mark: spec.fwmark, mask: spec.fwmask, table: tableNumber(spec.table), suppress: spec.suppressPrefixlength }),
    add: ruleArgs('add', spec),
    del: ruleArgs('del', spec),
  };
}

const prefix = (address: string | undefined, length: number | undefined) =>
  address === undefined || address === 'all' ? undefined : length === undefined ? address : `${address}/${length}`;

/**
 * The arguments that re-create or delete this very rule. Several mwan rules share a priority, so
 * a delete names every selector (and the protocol) or the kernel would remove the first match.
 */
export function ruleEntryFromKernel(rule: KernelRule): RuleEntry {
  const from = prefix(rule.src, rule.srclen);
  const to = prefix(rule.dst, rule.dstlen);
  const mark = rule.fwmark !== undefined ? Number(rule.fwmark) : undefined;
  const mask = rule.fwmask !== undefined ? Number(rule.fwmask) : undefined;
  const table = tableNumber(rule.table);
  const selectors = [
    ...(from ? ['from', from] : []),
    ...(to ? ['to', to] : []),
    ...(rule.iif ? ['iif', rule.iif] : []),
    ...(rule.oif ? ['oif', rule.oif] : []),
    ...(mark !== undefined ? ['fwmark', mask !== undefined && mask !== FULL_MASK ? `${hex(mark)}/${hex(mask)}` : hex(mark)] : []),
    'lookup', table,
    ...(rule.suppress_prefixlen !== undefined ? ['suppress_prefixlength', String(rule.suppress_prefixlen)] : []),
    ...(rule.protocol !== undefined ? ['proto', rule.protocol] : []),
  ];
  const inet6 = rule.family === 'inet6' || isIpv6(from) || isIpv6(to);
  const family = inet6 ? ['-6'] : [];
  return {
    key: ruleKey({ family: inet6 ? 'inet6' : undefined, pref: rule.priority, from, to, iif: rule.iif, oif: rule.oif, mark, mask, table, suppress: rule.suppress_prefixlen }),
    add: [...family, 'rule', 'add', 'pref', String(rule.priority), ...selectors],
    del: [...family, 'rule', 'del', 'pref', String(rule.priority), ...selectors],
  };
}

const isIpv6 = (address: string | undefined) => address !== undefined && address.includes(':');
