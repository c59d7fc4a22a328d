// Bundles the built CLI (packages/cli/dist/main.js and everything it imports) into one file.
// Node then reads and compiles one module instead of some 150: start-up CPU of a `mwan` run
// halves, which is what a reload under load and `mwan apply` wall time are made of.
import { build } from 'esbuild';

await build({
  entryPoints: ['packages/cli/dist/main.js'],
  outfile: 'packages/cli/dist/mwan.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies (ajv, commander) call require() for Node built-ins.
  banner: { js: "import { createRequire as mwanCreateRequire } from 'node:module'; const require = mwanCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
