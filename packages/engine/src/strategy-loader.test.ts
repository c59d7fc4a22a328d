import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { MwanError } from '@mwan/core';
import { listStrategies, loadStrategy } from './strategy-loader.js';

const root = mkdtempSync(join(tmpdir(), 'mwan-loader-'));
const plain = `export default {
  name: 'first-link',
  meta: { description: 'always the first link' },
  select: ({ nft, links }) => nft.constant(links[0]),
};\n`;

function writePackage(dir: string, name: string, body = plain) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), body);
}

async function errorOf(promise: Promise<unknown>): Promise<MwanError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MwanError);
    return error as MwanError;
  }
  throw new Error('loaded');
}

describe('loadStrategy', () => {
  it('finds built-ins by name', async () => {
    for (const name of ['round-robin', 'weighted', 'source-hash', 'dest-hash']) {
      expect((await loadStrategy(name)).strategy.name).toBe(name);
    }
  });

  it('loads a file path relative to the config directory, without any dependency on mwan', async () => {
    writeFileSync(join(root, 'first.mjs'), plain);
    const loaded = await loadStrategy('./first.mjs', { configDir: root });
    expect(loaded.strategy.name).toBe('first-link');
    expect(loaded.source).toBe(join(root, 'first.mjs'));
  });

  it('loads a package directory and an installed package, config directory first', async () => {
    writePackage(join(root, 'pkgdir'), 'pkgdir');
    expect((await loadStrategy(join(root, 'pkgdir'))).strategy.name).toBe('first-link');
    writePackage(join(root, 'node_modules', '@acme', 'mwan-strategy-bar'), '@acme/mwan-strategy-bar');
    const loaded = await loadStrategy('@acme/mwan-strategy-bar', { configDir: root, extraRoots: [] });
    expect(loaded.source).toBe(join(root, 'node_modules', '@acme', 'mwan-strategy-bar', 'index.js'));
  });

  it('explains a missing package, a module without a strategy and a broken definition', async () => {
    const missing = await errorOf(loadStrategy('mwan-strategy-nope', { configDir: root, extraRoots: [] }));
    expect(missing.code).toBe('strategy');
    expect(missing.message).toMatch(/^strategy "mwan-strategy-nope": not a built-in \(round-robin, weighted, source-hash, dest-hash\) and no installed package/);
    writeFileSync(join(root, 'nothing.mjs'), 'export const x = 1;\n');
    expect((await errorOf(loadStrategy('./nothing.mjs', { configDir: root }))).message).toMatch(/does not export a strategy/);
    writeFileSync(join(root, 'broken.mjs'), "export default { name: 'Bad', meta: {}, select() {} };\n");
    expect((await errorOf(loadStrategy('./broken.mjs', { configDir: root }))).message).toMatch(/invalid strategy definition: name "Bad"/);
    writeFileSync(join(root, 'syntax.mjs'), 'export default {\n');
    expect((await errorOf(loadStrategy('./syntax.mjs', { configDir: root }))).message).toMatch(/cannot load/);
    expect((await errorOf(loadStrategy('./absent.mjs', { configDir: root }))).message).toMatch(/no file or package directory/);
    expect((await errorOf(loadStrategy('weird name!', { configDir: root }))).message).toMatch(/not a built-in .*, a package name or a path/);
  });
});

describe('listStrategies', () => {
  it('lists the built-ins, then mwan-strategy-* packages found next to the config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mwan-list-'));
    writePackage(join(dir, 'node_modules', 'mwan-strategy-first'), 'mwan-strategy-first');
    writePackage(join(dir, 'node_modules', '@acme', 'mwan-strategy-broken'), '@acme/mwan-strategy-broken', 'export const nothing = 1;\n');
    writePackage(join(dir, 'node_modules', 'unrelated'), 'unrelated');
    const listing = await listStrategies({ configDir: dir, extraRoots: [] });
    expect(listing.map((s) => [s.ref, s.name, s.source === 'builtin'])).toEqual([
      ['round-robin', 'round-robin', true],
      ['weighted', 'weighted', true],
      ['source-hash', 'source-hash', true],
      ['dest-hash', 'dest-hash', true],
      ['@acme/mwan-strategy-broken', '@acme/mwan-strategy-broken', false],
      ['mwan-strategy-first', 'first-link', false],
    ]);
    expect(listing[4].error).toMatch(/does not export a strategy/);
    expect(listing[5].description).toBe('always the first link');
  });
});
