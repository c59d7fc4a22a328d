import type { Lab } from '@mwan/lab';
import { SEED_SCRIPT, SEED_SCRIPT_IN_REPO } from './paths.js';

/** How RESULTS.md shows the seed's command: the path from the repository's root. */
export const SEED_COMMAND = `ip netns exec <router> env IPT=iptables-legacy ${SEED_SCRIPT_IN_REPO}`;

/**
 * One run of the article's script inside the lab's router namespace. It flushes every iptables
 * table and rewrites rules 251/252 there: that is the baseline's design, and the namespace is the
 * bench's own.
 */
export async function runSeed(lab: Lab): Promise<void> {
  const result = await lab.exec('router', 'env', ['IPT=iptables-legacy', SEED_SCRIPT], { reject: false });
  if (result.exitCode !== 0) throw new Error(`seed script failed (exit ${result.exitCode}): ${result.stderr}`);
}

/** Takes the seed's rules, routes and sysctl back out of the router, so the next setup starts clean. */
export async function removeSeed(lab: Lab): Promise<void> {
  for (const table of ['mangle', 'nat', 'filter']) {
    await lab.exec('router', 'iptables-legacy', ['-t', table, '-F'], { reject: false });
    await lab.exec('router', 'iptables-legacy', ['-t', table, '-X'], { reject: false });
  }
  for (const [mark, table] of [['1', '251'], ['2', '252']]) {
    await lab.exec('router', 'ip', ['rule', 'del', 'fwmark', mark, 'table', table], { reject: false });
    await lab.exec('router', 'ip', ['route', 'flush', 'table', table], { reject: false });
  }
  // The script turns reverse-path filtering off; the lab starts with its own value.
  const rp = String(lab.topology.rpFilter);
  await lab.exec('router', 'sysctl', ['-q', '-w', `net.ipv4.conf.all.rp_filter=${rp}`], { reject: false });
}
