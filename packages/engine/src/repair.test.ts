import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKernel, RecordingRunner } from '@mwan/iproute2';
import { createEngines } from './engines.js';
import { changedMarks } from './changed-marks.js';
import { journalPath } from './run-dir.js';
import type { Journal } from './state-file.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-repair-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

const link = (n: number, extra: object = {}) => ({ name: `isp${n}`, interface: `eth${n}`, gateway: `10.37.${n}.1`, ...extra });
function configFile(links: object[]): string {
  const path = join(tmp, `config-${++counter}.json`);
  writeFileSync(path, JSON.stringify({ lan: ['eth0'], links }));
  return path;
}

describe('changedMarks', () => {
  const holder = (mark: number, name: string, iface = `eth-${name}`) => ({ mark, name, interface: iface });
  it('flags marks whose link is gone or now another link or interface, from any holder they had', () => {
    const before = new Map([
      [1, [holder(1, 'a')]],
      [2, [holder(2, 'b'), holder(2, 'x')]],
      [3, [holder(3, 'c')]],
      [4, [null]],
      [5, [null]],
    ]);
    expect(changedMarks([holder(1, 'a'), holder(2, 'b'), holder(3, 'c', 'other'), holder(5, 'e')], before)).toEqual([2, 3, 4]);
  });
});

describe('repair after an interrupted apply', () => {
  it('deletes connections of marks the interrupted apply gave to another link', async () => {
    const kernel = new FakeKernel({ conntrack: { 2: 7 } });
    const runner = new RecordingRunner(kernel.respond);
    const engines = createEngines({ runner, sysctls: kernel });
    const runDir = join(tmp, 'run');
    const apply = (configPath: string) => engines.apply.apply({ configPath, runDir, waitSeconds: 0 });
    const three = configFile([link(1), link(2), link(3)]);
    await apply(three);

    // An apply that gave mark 2 to isp4 got as far as loading its table, then died: its journal
    // is all that says isp4's connections carry mark 2.
    writeFileSync(journalPath(runDir), JSON.stringify({
      version: 1, pid: 999999, started: '2026-01-01T00:00:00.000Z', step: 'stale rules',
      snapshot: { nft: kernel.table, rules: kernel.rules, routes: kernel.routes }, pendingSysctls: [],
      links: [{ name: 'isp1', interface: 'eth1', mark: 1, table: 1001, weight: 1 }, { name: 'isp4', interface: 'eth4', mark: 2, table: 1002, weight: 1 }],
    } satisfies Journal));
    runner.calls.length = 0;
    const report = await apply(three);
    expect(report.repaired).toBe(true);
    expect(report.conntrackDeleted).toEqual({ '0x2': 7 });

    // Repaired and finished: the next apply has nothing to delete.
    kernel.conntrack.set(2, 3);
    expect((await apply(three)).conntrackDeleted).toEqual({});
  });

  it('a journal keeps the links of every interrupted run until one apply completes', async () => {
    const kernel = new FakeKernel();
    const runner = new RecordingRunner(kernel.respond);
    const engines = createEngines({ runner, sysctls: kernel });
    const runDir = join(tmp, 'run-journal');
    const apply = (configPath: string) => engines.apply.apply({ configPath, runDir, waitSeconds: 0 });
    await apply(configFile([link(1), link(2)]));
    writeFileSync(journalPath(runDir), JSON.stringify({
      version: 1, pid: 999999, started: '2026-01-01T00:00:00.000Z', step: 'nft',
      snapshot: { nft: kernel.table, rules: kernel.rules, routes: kernel.routes }, pendingSysctls: [],
      links: [{ name: 'isp9', interface: 'eth9', mark: 2, table: 1002, weight: 1 }],
    } satisfies Journal));
    // This run fails too: its journal must still name isp9 for the one after.
    kernel.failOn('nft -f -', 'Error: Could not process rule: Device or resource busy', 1);
    kernel.failOn('nft -f -', 'Error: Could not process rule: Device or resource busy', 1);
    await expect(apply(configFile([link(1), link(3)]))).rejects.toThrow();
    const journal = JSON.parse(readFileSync(journalPath(runDir), 'utf8')) as Journal;
    expect(journal.links?.map((l) => `${l.name}@${l.mark}`)).toEqual(['isp9@2', 'isp1@1', 'isp3@2']);
  });
});
