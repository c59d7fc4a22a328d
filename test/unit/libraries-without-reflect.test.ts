// The libraries are usable from any program: importing one needs no reflect polyfill (tsyringe
// and its decorators live only at the composition roots, the CLI and the daemon). Each import runs
// in a plain `node` of its own, without jest's set-up files, against the built packages.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const LIBRARIES = ['packages/core', 'packages/iproute2', 'packages/health', 'packages/engine', 'strategies/weighted', 'strategies/source-hash'];

async function importAlone(specifier: string) {
  const script = `await import(${JSON.stringify(specifier)}); console.log('imported');`;
  return execa(process.execPath, ['--input-type=module', '-e', script], { cwd: repo, reject: false });
}

describe('libraries import without reflect-metadata', () => {
  it('tells a failing import from a working one (tsyringe itself needs the polyfill)', async () => {
    const result = await importAlone('tsyringe');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('tsyringe requires a reflect polyfill');
  });

  it.each(LIBRARIES)('%s', async (dir) => {
    const entry = `${repo}${dir}/dist/index.js`;
    expect({ built: existsSync(entry), hint: 'npm run build first' }).toEqual({ built: true, hint: 'npm run build first' });
    const result = await importAlone(entry);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('imported');
  });
});
