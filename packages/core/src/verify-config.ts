import type { Config } from './config-types.js';
import { DEFAULT_MARK_MASK, RESERVED_TABLES, TABLE_BASE } from './constants.js';
import { fitsMask } from './model.js';
import { hex } from './nft-builder.js';
import { showValue } from './json-path.js';
import { ipv6PrefixesOverlap, isIpv6Address, isLinkLocal, parseIpv6Prefix, type Ipv6Prefix } from './ipv6.js';
import { verifyRules } from './rules.js';

/**
 * Checks that span fields, after the schema has passed: uniqueness of names, interfaces,
 * marks and tables, LAN/link overlap, and the rules (verifyRules). Returns one line per problem.
 */
export function verifyConfig(config: Config): string[] {
  const problems: string[] = [];
  const firstIndex = <T>(values: readonly T[], prefix: string, field: string) => {
    const seen = new Map<T, number>();
    values.forEach((value, index) => {
      if (value === undefined) return;
      const earlier = seen.get(value);
      if (earlier !== undefined) {
        problems.push(`${prefix}[${index}]${field}: ${showValue(value)} is already used by ${prefix}[${earlier}]`);
      } else seen.set(value, index);
    });
  };
  firstIndex(config.lan, 'lan', '');
  firstIndex(config.links.map((l) => l.name), 'links', '.name');
  firstIndex(config.links.map((l) => l.interface), 'links', '.interface');
  firstIndex(config.links.map((l) => l.mark), 'links', '.mark');
  firstIndex(config.links.map((l) => l.table), 'links', '.table');

  // A TCP probe needs a port, from the link's settings or the global ones.
  const portless = new Set<string>();
  config.links.forEach((link, index) => {
    const method = link.health?.method ?? config.health?.method;
    if (method === 'tcp' && (link.health?.port ?? config.health?.port) === undefined) {
      portless.add(link.health?.method ? `links[${index}].health.port` : 'health.port');
    }
  });
  for (const path of portless) problems.push(`${path}: required with method "tcp"`);

  // mwan owns only the mask's bits of the packet and ct marks: a link mark must use no other bit.
  const mask = config.markMask ?? DEFAULT_MARK_MASK;
  config.links.forEach((link, index) => {
    if (link.mark !== undefined && !fitsMask(link.mark, mask)) {
      problems.push(`links[${index}].mark: ${hex(link.mark)} does not fit markMask ${hex(mask)}`);
    }
  });

  const lan = new Set(config.lan);
  config.links.forEach((link, index) => {
    if (lan.has(link.interface)) {
      problems.push(`links[${index}].interface: ${showValue(link.interface)} is also a LAN interface`);
    }
    if (link.mark !== undefined && link.table === undefined) {
      const table = TABLE_BASE + link.mark;
      if (table > 0xffffffff || RESERVED_TABLES.has(table)) {
        problems.push(`links[${index}].mark: ${link.mark} leaves no default table (${TABLE_BASE} + mark); set "table"`);
      }
    }
  });
  problems.push(...verifyIpv6(config));
  problems.push(...verifyRules(config));
  return problems;
}

/** The IPv6 fields against each other: NPTv6 lengths, DMZ prefixes, and targets of a family the link lacks. */
function verifyIpv6(config: Config): string[] {
  const problems: string[] = [];
  const lan6 = config.lan6 === undefined ? undefined : parseIpv6Prefix(config.lan6);
  const routed: { path: string; prefix: Ipv6Prefix }[] = [];
  config.links.forEach((link, index) => {
    const at = `links[${index}]`;
    const snat = link.ipv6?.snat;
    const translated = snat?.includes('/') ? parseIpv6Prefix(snat) : undefined;
    if (translated && !lan6) problems.push(`${at}.ipv6.snat: a prefix translates the LAN's prefix; set "lan6"`);
    if (translated && lan6 && translated.length !== lan6.length) {
      problems.push(`${at}.ipv6.snat: ${showValue(snat)} is a /${translated.length}, lan6 ${showValue(config.lan6)} a /${lan6.length}: NPTv6 maps prefixes of the same length`);
    }
    if (snat !== undefined && !snat.includes('/') && isLinkLocal(snat)) problems.push(`${at}.ipv6.snat: ${showValue(snat)} is link-local; a source must be routable`);
    (link.ipv6?.routed ?? []).forEach((text, j) => {
      const prefix = parseIpv6Prefix(text);
      if (!prefix) return;
      const path = `${at}.ipv6.routed[${j}]`;
      const earlier = routed.find((r) => ipv6PrefixesOverlap(r.prefix, prefix));
      if (earlier) problems.push(`${path}: ${showValue(text)} overlaps ${earlier.path}`);
      else if (lan6 && ipv6PrefixesOverlap(lan6, prefix)) problems.push(`${path}: ${showValue(text)} overlaps lan6 ${showValue(config.lan6)}`);
      routed.push({ path, prefix });
    });
    (link.health?.targets ?? []).forEach((target, j) => {
      if (link.ipv6 === undefined && isIpv6Address(target)) {
        problems.push(`${at}.health.targets[${j}]: ${showValue(target)} is an IPv6 address, and the link has no "ipv6"`);
      }
    });
  });
  return problems;
}
