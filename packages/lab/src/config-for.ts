import type { Config } from '@mwan/core';
import type { LabLink } from './topology.js';

export type SnatChoice = 'address' | 'masquerade' | 'none';

export interface ConfigOptions {
  /** A strategy name or `{ name, options }`; omitted: the config has no strategy (mwan's default). */
  strategy?: string | { name: string; options?: Record<string, unknown> };
  /** Per link, in link order; omitted: no weights in the file. */
  weights?: readonly number[];
  /**
   * Per link or for all: `address` writes the link's own address as `snat`, `masquerade` and
   * `none` are written as such. Default: link 1 `address`, the others `masquerade`, so both
   * kinds are exercised.
   */
  snat?: SnatChoice | readonly SnatChoice[];
  /** LAN interfaces of the router; default `["eth0"]` (the second LAN, eth1, is not balanced). */
  lan?: readonly string[];
  /** Only these links (1-based indexes), in this order; default all. */
  only?: readonly number[];
  /** Explicit marks per link (in the order of the links written). */
  marks?: readonly number[];
}

export function configFor(links: readonly LabLink[], options: ConfigOptions = {}): Config {
  const chosen = options.only ? options.only.map((n) => {
    const link = links.find((l) => l.index === n);
    if (!link) throw new RangeError(`configFor: the lab has no link ${n}`);
    return link;
  }) : [...links];
  const snatOf = (i: number): SnatChoice => {
    if (typeof options.snat === 'string') return options.snat;
    return options.snat?.[i] ?? (i === 0 ? 'address' : 'masquerade');
  };
  return {
    lan: [...(options.lan ?? ['eth0'])],
    links: chosen.map((link, i) => {
      const snat = snatOf(i);
      return {
        name: link.name,
        interface: link.routerInterface,
        gateway: link.gateway,
        ...(options.weights ? { weight: options.weights[i] ?? 1 } : {}),
        snat: snat === 'address' ? link.routerAddress : snat,
        ...(options.marks?.[i] !== undefined ? { mark: options.marks[i] } : {}),
      };
    }),
    ...(options.strategy !== undefined ? { strategy: options.strategy } : {}),
  };
}
