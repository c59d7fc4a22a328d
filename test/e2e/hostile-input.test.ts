// Bad input is harmless: every config of the corpus (test/fixtures/bad-configs, plus what is
// made here: huge, deep, binary, a directory, a dangling symlink, a FIFO) makes `mwan apply`
// exit 2 with one line naming the field, and nft, ip rules, ip routes and the run dir stay byte
// for byte as they were, with mwan applied and without.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execa } from 'execa';
import type { Lab } from '@mwan/lab';
import { createLab, leftovers } from './helpers.js';
import { routerState, runDirFiles } from './reliability-helpers.js';

const PREFIX = 'mwhostile';
jest.setTimeout(180_000);

const CORPUS = fileURLToPath(new URL('../fixtures/bad-configs/', import.meta.url));
const fields = JSON.parse(readFileSync(join(CORPUS, 'fields.json'), 'utf8')) as Record<string, string>;

let lab: Lab;
/** Path of each bad config → what its one line must contain. */
const cases = new Map<string, string>();

beforeAll(async () => {
  lab = await createLab(PREFIX, { links: 2 });
  const files = readdirSync(CORPUS).filter((f) => f.endsWith('.json') && f !== 'fields.json');
  // Every file has its expectation and every expectation its file.
  expect(files.sort()).toEqual(Object.keys(fields).sort());
  for (const file of files) cases.set(join(CORPUS, file), fields[file]);

  const made = join(lab.dir, 'made');
  mkdirSync(made);
  const at = (name: string) => join(made, name);
  const link = (n: number) => ({ name: `l${n}`, interface: `wan${n}` });
  writeFileSync(at('ten-megabytes.json'), `{"lan":["eth0"],"links":[{"name":"isp1","interface":"wan1"}],"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`);
  writeFileSync(at('deep-nesting.json'), `${'['.repeat(200_000)}${']'.repeat(200_000)}`);
  writeFileSync(at('too-many-links.json'), JSON.stringify({ lan: ['eth0'], links: Array.from({ length: 257 }, (_, i) => link(i)) }));
  writeFileSync(at('random-bytes.json'), randomBytes(4096));
  writeFileSync(at('utf16.json'), Buffer.from(JSON.stringify({ lan: ['eth0'], links: [link(1)] }), 'utf16le'));
  mkdirSync(at('directory.json'));
  symlinkSync(join(made, 'no', 'such', 'file.json'), at('dangling-symlink.json'));
  await execa('mkfifo', [at('fifo.json')]);
  for (const [name, field] of Object.entries({
    'ten-megabytes.json': 'config', 'deep-nesting.json': '(root)', 'too-many-links.json': 'links: must have at most 256 items',
    'random-bytes.json': 'config', 'utf16.json': 'config', 'directory.json': 'config', 'dangling-symlink.json': 'config',
    'fifo.json': 'config', 'missing.json': 'config',
  })) cases.set(at(name), field);
  expect(cases.size).toBeGreaterThanOrEqual(40);
});

afterAll(async () => {
  await lab?.destroy();
  expect(await leftovers(PREFIX)).toEqual([]);
});

/** Runs every case, four at a time; returns a line for each that did not hold. */
async function runCorpus(): Promise<string[]> {
  const problems: string[] = [];
  const queue = [...cases];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [path, field] = next;
      const name = path.slice(path.lastIndexOf('/') + 1);
      const before = { state: await routerState(lab), files: runDirFiles(lab) };
      const run = await lab.mwan(['--config', path, 'apply']);
      const after = { state: await routerState(lab), files: runDirFiles(lab) };
      const lines = run.stderr.split('\n').filter((l) => l !== '');
      if (run.exitCode !== 2) problems.push(`${name}: exit ${run.exitCode}, not 2 (${run.stderr.slice(0, 200)})`);
      if (lines.length !== 1) problems.push(`${name}: ${lines.length} lines on stderr, not 1: ${JSON.stringify(lines.slice(0, 3))}`);
      else if (!lines[0].startsWith('mwan: ') || !lines[0].includes(field)) problems.push(`${name}: ${JSON.stringify(lines[0].slice(0, 200))} does not name ${field}`);
      if (lines.some((l) => l.length > 400)) problems.push(`${name}: a line of ${Math.max(...lines.map((l) => l.length))} characters`);
      if (run.stdout !== '') problems.push(`${name}: printed on stdout: ${run.stdout.slice(0, 100)}`);
      for (const key of ['ruleset', 'rules', 'routes'] as const) {
        if (after.state[key] !== before.state[key]) problems.push(`${name}: ${key} changed`);
      }
      if (JSON.stringify(after.files) !== JSON.stringify(before.files)) problems.push(`${name}: the run dir changed`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return problems;
}

describe('hostile input', () => {
  it('with mwan not applied: each bad config exits 2 with one line naming its field and changes nothing', async () => {
    const before = await routerState(lab);
    expect(before.ruleset).not.toContain('table inet mwan');
    expect(await runCorpus()).toEqual([]);
    expect(await routerState(lab)).toEqual(before);
  });

  it('with mwan applied: the same, and the applied state, state.json included, stays as it is', async () => {
    await lab.mwanOk(['--config', await lab.configFor({ strategy: 'weighted', weights: [1, 3] }), 'apply']);
    const before = { state: await routerState(lab), files: runDirFiles(lab) };
    expect(before.state.ruleset).toContain('table inet mwan');
    expect(before.files['state.json']).not.toBeNull();
    expect(await runCorpus()).toEqual([]);
    expect({ state: await routerState(lab), files: runDirFiles(lab) }).toEqual(before);
  });
});
