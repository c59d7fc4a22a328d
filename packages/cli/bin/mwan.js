#!/usr/bin/env node
// Committed so npm links the `mwan` bin at install time; the code it runs is built into dist/.
import { main } from '../dist/main.js';

await main(process.argv.slice(2));
