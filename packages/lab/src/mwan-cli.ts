import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `mwan` executable of this checkout: `@mwan/cli`'s package.json `bin`, found by walking up
 * node_modules from here (its exports map does not expose package.json to `require.resolve`).
 * `MWAN_CLI` overrides it.
 */
export function findMwanCli(from: string = fileURLToPath(import.meta.url)): string {
  if (process.env.MWAN_CLI) return resolve(process.env.MWAN_CLI);
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const pkg = join(dir, 'node_modules', '@mwan', 'cli', 'package.json');
    if (existsSync(pkg)) {
      const root = dirname(realpathSync(pkg));
      const { bin } = JSON.parse(readFileSync(pkg, 'utf8')) as { bin?: string | Record<string, string> };
      const entry = typeof bin === 'string' ? bin : (bin?.mwan ?? 'bin/mwan.js');
      return join(root, entry);
    }
    if (dirname(dir) === dir) throw new Error('cannot find @mwan/cli in any node_modules above the lab package; run npm install at the repository root');
  }
}
