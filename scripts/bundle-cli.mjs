// Bundles the built CLI (packages/cli/dist/main.js and everything it imports) into one file.
// Node then reads and compiles one module instead of some 150: start-up CPU of a `mwan` run
// halves, which is what a reload under load and `mwan apply` wall time are made of.
// The JSON Schemas go in too (as MWAN_BUNDLED_SCHEMAS, read by @mwan/core's loadSchema), so the
// bundle needs no node_modules at run time: the Debian package ships it alone (packaging/).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Every `*.json` under schemas/ (but its package.json), by its path there: `strategies/weighted.schema.json`. */
function schemas(dir = 'schemas', prefix = '') {
  const found = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const name = `${prefix}${entry.name}`;
    if (entry.isDirectory()) Object.assign(found, schemas(join(dir, entry.name), `${name}/`));
    else if (entry.name.endsWith('.schema.json')) found[name] = JSON.parse(readFileSync(join(dir, entry.name), 'utf8'));
  }
  return found;
}

const result = await build({
  entryPoints: ['packages/cli/dist/main.js'],
  outfile: 'packages/cli/dist/mwan.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  define: { MWAN_BUNDLED_SCHEMAS: JSON.stringify(schemas()) },
  // CommonJS dependencies (ajv, commander) call require() for Node built-ins.
  banner: { js: "import { createRequire as mwanCreateRequire } from 'node:module'; const require = mwanCreateRequire(import.meta.url);" },
  // What went in, by input file: the Debian package's copyright file lists the bundled packages from it.
  metafile: true,
  logLevel: 'warning',
});
writeFileSync('packages/cli/dist/mwan.bundle.meta.json', `${JSON.stringify(result.metafile)}\n`);

// What bin/mwan.js loads first to hand a command line to a running `mwan watch`: Node's own
// modules only, so it is a file apart, loaded without the bundle above.
await build({
  entryPoints: ['packages/cli/dist/daemon/hand-over.js'],
  outfile: 'packages/cli/dist/mwan.hand-over.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
