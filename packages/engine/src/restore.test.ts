import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKernel, RecordingRunner, ruleEntryFromKernel, type KernelRule } from '@mwan/iproute2';
import { createEngines } from './engines.js';
import { reorderCommands } from './ip-sync.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-restore-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

const link = (n: number, extra: object = {}) => ({ name: `isp${n}`, interface: `eth${n}`, gateway: `10.37.${n}.1`, ...extra });
function configFile(links: object[]): string {
  const path = join(tmp, `config-${++counter}.json`);
  writeFileSync(path, JSON.stringify({ lan: ['eth0'], links }));
  return path;
}

const sortByTable = <T extends { table?: string }>(routes: T[]) => [...routes].sort((a, b) => Number(a.table) - Number(b.table));
const rule = (fwmark: number, extra: Partial<KernelRule> = {}): KernelRule => ({ priority: 31001, src: 'all', fwmark: `0x${fwmark.toString(16)}`, table: String(1000 + fwmark), protocol: '109', ...extra });
const entries = (...marks: number[]) => marks.map((m) => ruleEntryFromKernel(rule(m)));

describe('reorderCommands', () => {
  it('moves every rule from the first one out of place, each deleted and added back in turn', () => {
    const marks = reorderCommands(entries(1, 2, 3, 4), entries(1, 3, 4, 2)).map((c) => `${c[1]} ${c[c.indexOf('fwmark') + 1]}`);
    expect(marks).toEqual(['del 0x2', 'add 0x2', 'del 0x3', 'add 0x3', 'del 0x4', 'add 0x4']);
  });

  it('leaves rules in order alone, and priorities whose rules differ in more than order', () => {
    expect(reorderCommands(entries(1, 2, 3), entries(1, 2, 3))).toEqual([]);
    expect(reorderCommands(entries(1, 2, 3), entries(3, 1))).toEqual([]);
  });

  it('looks at each priority on its own', () => {
    const lan = ruleEntryFromKernel({ priority: 31000, src: 'all', iif: 'eth0', table: '254', suppress_prefixlen: 0, protocol: '109' });
    const marks = reorderCommands([lan, ...entries(1, 2)], [lan, ...entries(2, 1)]).map((c) => `${c[1]} ${c[c.indexOf('fwmark') + 1]}`);
    expect(marks).toEqual(['del 0x1', 'add 0x1', 'del 0x2', 'add 0x2']);
  });
});

describe('rollback', () => {
  function router() {
    const kernel = new FakeKernel({ conntrack: { 2: 3 } });
    const runner = new RecordingRunner(kernel.respond);
    const engines = createEngines({ runner, sysctls: kernel });
    const runDir = join(tmp, `run-${++counter}`);
    const apply = (configPath: string) => engines.apply.apply({ configPath, runDir, waitSeconds: 0 });
    return { kernel, apply };
  }

  it.each(['stale routes', 'conntrack'])('after step "%s" puts a removed rule back in its place, so ip rule reads exactly as before', async (step) => {
    const r = router();
    await r.apply(configFile([link(1), link(2), link(3)]));
    const rules = structuredClone(r.kernel.rules);
    const routes = structuredClone(r.kernel.routes);
    const table = r.kernel.table;
    // isp2, the middle one of three rules of one priority, goes; a later step fails.
    r.kernel.failOn(step === 'conntrack' ? 'conntrack -D -m 2/255' : 'ip route del default via 10.37.2.1', 'Operation not permitted', 1);
    await expect(r.apply(configFile([link(1), link(3)]))).rejects.toMatchObject({ problems: [expect.stringContaining(`step "${step}"`), 'the previous state was restored'] });
    expect(r.kernel.rules).toEqual(rules);
    // The fake kernel lists routes in insertion order; the real one by table, whatever the order they came in.
    expect(sortByTable(r.kernel.routes)).toEqual(sortByTable(routes));
    expect(r.kernel.table).toBe(table);
  });
});
