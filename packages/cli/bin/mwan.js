#!/usr/bin/env node
// Committed so npm links the `mwan` bin at install time; the code it runs is built into dist/:
// the one-file bundles when `npm run build` made them, else tsc's output.
import { existsSync } from 'node:fs';

const built = (bundle, files) => {
  const url = new URL(bundle, import.meta.url);
  return existsSync(url) ? url.href : files;
};
const argv = process.argv.slice(2);
// With mwan watch running, apply, down, confirm and status only hand their command line to it:
// that needs the small hand-over module alone, not the whole CLI.
const { handOver } = await import(built('../dist/mwan.hand-over.mjs', '../dist/daemon/hand-over.js'));
const handed = await handOver(argv);
if (handed !== undefined) process.exitCode = handed;
else {
  const { main } = await import(built('../dist/mwan.bundle.mjs', '../dist/main.js'));
  await main(argv);
}
