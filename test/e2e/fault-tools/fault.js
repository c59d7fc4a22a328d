#!/usr/bin/env node
// @ts-check
// Stands in for `ip`, `nft` or `conntrack` on the PATH of an mwan under test and injects one
// fault into the first call that matches; every other call runs the real tool unchanged.
//   MWAN_FAULT_TOOL  the tool this copy stands for (set by the wrapper file that imports this)
//   MWAN_FAULT       JSON { tool, match, action, dir, message? }: `match` is a RegExp source tried
//                    on "TOOL ARGS\nSTDIN"; `dir` a directory of the test's
//   MWAN_FAULT_PATH  the PATH to find the real tools in
// Actions: fail (print `message`, exit 1, run nothing), hang (write DIR/reached, then wait to be
// killed), hang-after (run the real command first), fail-after (run the real command, then
// print `message` and exit 1 as if it had failed part way), pause (write DIR/reached, wait for
// DIR/release, then run the real command). The first match creates DIR/triggered; later calls
// that match pass through, so a rollback's own calls are not failed too.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const tool = process.env.MWAN_FAULT_TOOL ?? '';
const args = process.argv.slice(2);
const spec = JSON.parse(process.env.MWAN_FAULT ?? '{}');
const readsStdin = args.includes('-');
const input = readsStdin ? readFileSync(0, 'utf8') : undefined;

function realTool() {
  for (const dir of (process.env.MWAN_FAULT_PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, tool))) return join(dir, tool);
  }
  throw new Error(`fault.js: no real ${tool} on MWAN_FAULT_PATH`);
}

async function runReal() {
  // Loaded only when needed: most calls of a run pass through, and each is a process start.
  const { execa } = await import('execa');
  const result = await execa(realTool(), args, {
    ...(input !== undefined ? { input } : { stdin: 'ignore' }),
    stdout: 'inherit',
    stderr: 'inherit',
    reject: false,
  });
  return typeof result.exitCode === 'number' ? result.exitCode : 127;
}

/** True for the first matching call only. */
function triggered() {
  if (spec.tool !== tool || !new RegExp(spec.match).test(`${tool} ${args.join(' ')}\n${input ?? ''}`)) return false;
  try {
    mkdirSync(join(spec.dir, 'triggered'));
    return true;
  } catch {
    return false;
  }
}

const reached = () => writeFileSync(join(spec.dir, 'reached'), `${process.pid}\n`);
const forever = () => new Promise(() => setInterval(() => {}, 60_000));

if (!triggered()) {
  process.exitCode = await runReal();
} else if (spec.action === 'fail') {
  process.stderr.write(`${spec.message ?? 'injected failure'}\n`);
  process.exitCode = 1;
} else if (spec.action === 'fail-after') {
  await runReal();
  process.stderr.write(`${spec.message ?? 'injected failure'}\n`);
  process.exitCode = 1;
} else if (spec.action === 'hang') {
  reached();
  await forever();
} else if (spec.action === 'hang-after') {
  await runReal();
  reached();
  await forever();
} else if (spec.action === 'pause') {
  reached();
  while (!existsSync(join(spec.dir, 'release'))) await new Promise((resolve) => setTimeout(resolve, 20));
  process.exitCode = await runReal();
} else {
  process.stderr.write(`fault.js: unknown action ${spec.action}\n`);
  process.exitCode = 3;
}
