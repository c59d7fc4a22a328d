import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-strategies-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { env: {}, io: { out: (t) => { out += t; }, err: (t) => { err += t; } } });
  return { code, out, err };
}

describe('mwan strategies', () => {
  it('lists the four built-ins and a package installed next to the config', async () => {
    const dir = join(tmp, 'node_modules', 'mwan-strategy-first');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'mwan-strategy-first', type: 'module', main: 'index.js' }));
    writeFileSync(join(dir, 'index.js'), "export default { name: 'first', meta: { description: 'the first link' }, select: ({ nft, links }) => nft.constant(links[0]) };\n");
    const text = await run(['strategies', '--config', join(tmp, 'mwan.json')]);
    expect(text.code).toBe(0);
    const lines = text.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^strategy\s+from\s+description\s+options$/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/)[0])).toEqual(['round-robin', 'weighted', 'source-hash', 'dest-hash']);
    expect(lines[2]).toMatch(/mode: random \| inc$/);
    expect(lines.find((l) => l.startsWith('mwan-strategy-first'))).toContain('the first link');

    const json = await run(['strategies', '--json', '--config', join(tmp, 'mwan.json')]);
    const listing = JSON.parse(json.out) as { ref: string; name: string; source: string }[];
    expect(listing.filter((s) => s.source === 'builtin')).toHaveLength(4);
    expect(listing.find((s) => s.ref === 'mwan-strategy-first')?.name).toBe('first');
  });
});
