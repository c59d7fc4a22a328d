import type { Lab } from '@mwan/lab';

/** The nft family of the "plain" baseline: IPv4, or IPv6 for the IPv6 benchmark. */
export type PlainFamily = 'ip' | 'ip6';

/** The bench's own tables for the "plain" baseline: NAT forwarding over link 1, no balancing. */
export const PLAIN_TABLE = 'bench_plain';
export const PLAIN6_TABLE = 'bench_plain6';

const tableOf = (family: PlainFamily) => (family === 'ip' ? PLAIN_TABLE : PLAIN6_TABLE);

export function plainRuleset(linkInterface: string, family: PlainFamily = 'ip'): string {
  const table = tableOf(family);
  return [
    `table ${family} ${table}`,
    `delete table ${family} ${table}`,
    `table ${family} ${table} {`,
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    `\t\toifname "${linkInterface}" masquerade`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

export async function applyPlain(lab: Lab, family: PlainFamily = 'ip'): Promise<void> {
  await lab.exec('router', 'nft', ['-f', '-'], { input: plainRuleset(lab.links[0].routerInterface, family) });
}

export async function removePlain(lab: Lab, family: PlainFamily = 'ip'): Promise<void> {
  await lab.exec('router', 'nft', ['delete', 'table', family, tableOf(family)], { reject: false });
}
