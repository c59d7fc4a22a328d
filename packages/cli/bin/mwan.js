#!/usr/bin/env node
// Committed so npm links the `mwan` bin at install time; the code it runs is built into dist/:
// the one-file bundle when `npm run build` made it, else tsc's output.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/mwan.bundle.mjs', import.meta.url);
const { main } = await import(existsSync(bundle) ? bundle.href : '../dist/main.js');
await main(process.argv.slice(2));
