import type { Lab } from '@mwan/lab';

/** The bench's own table for the "plain" baseline: NAT forwarding over link 1, no balancing. */
export const PLAIN_TABLE = 'bench_plain';

export function plainRuleset(linkInterface: string): string {
  return [
    `table ip ${PLAIN_TABLE}`,
    `delete table ip ${PLAIN_TABLE}`,
    `table ip ${PLAIN_TABLE} {`,
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    `\t\toifname "${linkInterface}" masquerade`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

export async function applyPlain(lab: Lab): Promise<void> {
  await lab.exec('router', 'nft', ['-f', '-'], { input: plainRuleset(lab.links[0].routerInterface) });
}

export async function removePlain(lab: Lab): Promise<void> {
  await lab.exec('router', 'nft', ['delete', 'table', 'ip', PLAIN_TABLE], { reject: false });
}
