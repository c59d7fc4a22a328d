import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync } from 'node:fs';
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

/**
 * How to start `mwan`: the native front when it is there (packages/cli/dist/mwan-front, built by
 * `npm run build`; `/usr/bin/mwan` of the Debian package), which hands a command line to a
 * running daemon or runs the node CLI itself, as a user's `mwan` does; otherwise node and the CLI.
 * `MWAN_CLI` may name either.
 */
export function mwanCommand(): [string, ...string[]] {
  const cli = findMwanCli();
  if (isNative(cli)) return [cli];
  if (!process.env.MWAN_CLI) {
    const front = join(dirname(cli), '..', 'dist', 'mwan-front');
    if (existsSync(front)) return [front];
  }
  return [process.execPath, cli];
}

/** An ELF executable, not a script for node. */
function isNative(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}
