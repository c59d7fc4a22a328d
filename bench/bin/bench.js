#!/usr/bin/env node
// Entry of `npm run bench`; the code is built into bench/dist by `tsc -b bench`.
import { main } from '../dist/index.js';

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
