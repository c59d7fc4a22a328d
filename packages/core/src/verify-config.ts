import type { Config } from './config-types.js';
import { DEFAULT_MARK_MASK, RESERVED_TABLES, TABLE_BASE } from './constants.js';
import { fitsMask } from './model.js';
import { hex } from './nft-builder.js';
import { showValue } from './json-path.js';

/**
 * Checks that span fields, after the schema has passed: uniqueness of names, interfaces,
 * marks and tables, and LAN/link overlap. Returns one line per problem.
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
  return problems;
}
