import { rename, writeFile } from 'node:fs/promises';
import { configFor, type Lab } from '@mwan/lab';

/**
 * Writes a config for `mwan watch` (every link SNATs to its own address), swapped in by rename so
 * that a reload never reads it half-written. Health targets as well: without any, watch has
 * nothing to wait for and exits after its first apply.
 */
export async function writeWatchConfig(lab: Lab, path: string, strategy: string, weights: readonly number[] = [1, 3]): Promise<void> {
  const config = { ...configFor(lab.links, { strategy, snat: 'address', weights }), health: { targets: [lab.serverAddress] } };
  await writeFile(`${path}.next`, `${JSON.stringify(config, null, 2)}\n`);
  await rename(`${path}.next`, path);
}

/** The strategy named in the loaded table's comment (what the last finished apply loaded). */
export async function loadedStrategy(lab: Lab): Promise<string | undefined> {
  const { stdout } = await lab.exec('router', 'nft', ['list', 'chain', 'inet', 'mwan', 'lan'], { reject: false });
  return /mwan: strategy ([a-z0-9-]+)/.exec(stdout)?.[1];
}
