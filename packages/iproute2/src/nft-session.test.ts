import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSpawner, type FakeProcess } from './fake-spawner.js';
import { NftSession } from './nft-session.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-nft-session-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

function session(timeoutMs?: number) {
  const spawner = new FakeSpawner();
  const path = join(tmp, `load-${++counter}.nft`);
  return { spawner, path, nft: new NftSession(spawner, path, timeoutMs) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** Waits for the session to write its request, and returns the marker line it asked for. */
async function request(process: () => FakeProcess | undefined, n: number): Promise<string> {
  // The session writes the file first (the thread pool): a deadline, not a count of turns.
  const deadline = Date.now() + 5000;
  while ((process()?.written.length ?? 0) < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
  const written = process()?.written[n - 1];
  if (written === undefined) throw new Error(`no request ${n}`);
  const [include, marker] = written.trimEnd().split('\n');
  expect(include).toMatch(/^include "\/.*\.nft"$/);
  return marker;
}

/** nft's answer to the marker: its error, the line echoed, the carets. */
const markerError = (marker: string) => ['Error: No such file or directory', marker, '                   ^^^^^^^^^^^^^^^'];

describe('NftSession', () => {
  it('starts one nft -i, includes each ruleset from a file of its own and takes silence as loaded', async () => {
    const s = session();
    const first = s.nft.tryLoad('table inet mwan { }\n');
    const marker = await request(() => s.spawner.processes[0], 1);
    expect(s.spawner.processes[0].line).toBe('nft -i');
    expect(marker).toBe('list set inet mwan mwan-loaded-1');
    // The file is there while nft reads it.
    expect(readFileSync(s.path, 'utf8')).toBe('table inet mwan { }\n');
    s.spawner.processes[0].printError(...markerError(marker));
    await expect(first).resolves.toBeUndefined();
    expect(existsSync(s.path)).toBe(false);

    const second = s.nft.tryLoad('table inet mwan { chain a { } }\n');
    const marker2 = await request(() => s.spawner.processes[0], 2);
    expect(marker2).toBe('list set inet mwan mwan-loaded-2');
    s.spawner.processes[0].printError(...markerError(marker2));
    await expect(second).resolves.toBeUndefined();
    expect(s.spawner.processes).toHaveLength(1);
  });

  it('returns what nft said before the marker when it refused the ruleset', async () => {
    const s = session();
    const load = s.nft.tryLoad('table inet mwan { nonsense }\n');
    const marker = await request(() => s.spawner.processes[0], 1);
    s.spawner.processes[0].printError(
      'In file included from <cmdline>:1:1-30:',
      `${s.path}:1:19-26: Error: syntax error, unexpected string`,
      'table inet mwan { nonsense }',
      '                  ^^^^^^^^',
      ...markerError(marker),
    );
    await expect(load).resolves.toBe(`In file included from <cmdline>:1:1-30:\n${s.path}:1:19-26: Error: syntax error, unexpected string\ntable inet mwan { nonsense }\n                  ^^^^^^^^`);
  });

  it('does not blame a load for the carets of the marker before it', async () => {
    const s = session();
    const first = s.nft.tryLoad('a\n');
    const marker = await request(() => s.spawner.processes[0], 1);
    const [error, echo, carets] = markerError(marker);
    s.spawner.processes[0].printError(error, echo);
    await expect(first).resolves.toBeUndefined();
    const second = s.nft.tryLoad('b\n');
    const marker2 = await request(() => s.spawner.processes[0], 2);
    // The carets of the first marker come late, then the second answer.
    s.spawner.processes[0].printError(carets, ...markerError(marker2));
    await expect(second).resolves.toBeUndefined();
  });

  it('fails a load during which nft ended, and starts it again for the next', async () => {
    const s = session();
    const load = s.nft.tryLoad('a\n');
    await request(() => s.spawner.processes[0], 1);
    s.spawner.processes[0].exit({ signal: 'SIGKILL' });
    await expect(load).rejects.toMatchObject({ problems: ['nft -i ended (SIGKILL) during a load: whether the table was loaded is not known'] });
    const next = s.nft.tryLoad('b\n');
    const marker = await request(() => s.spawner.processes[1], 1);
    s.spawner.processes[1].printError(...markerError(marker));
    await expect(next).resolves.toBeUndefined();
  });

  it('gives up on a load with no answer in time, ending that nft', async () => {
    const s = session(50);
    const load = s.nft.tryLoad('a\n');
    await expect(load).rejects.toMatchObject({ problems: [expect.stringContaining('nft -i gave no answer within 50 ms')] });
    await flush();
    expect(s.spawner.processes[0].killed).toBe(true);
  });

  it('listens to stderr only: what comes on stdout, between the marker\'s error and its echo too, is no answer', async () => {
    const s = session();
    const load = s.nft.tryLoad('a\n');
    const marker = await request(() => s.spawner.processes[0], 1);
    const [error, echo, carets] = markerError(marker);
    s.spawner.processes[0].printError(error);
    s.spawner.processes[0].print('nft> ', marker);
    s.spawner.processes[0].printError(echo, carets);
    await expect(load).resolves.toBeUndefined();
  });

  it('after a load that timed out, the next one starts another nft and hears nothing of the old one', async () => {
    const s = session(50);
    await expect(s.nft.tryLoad('a\n')).rejects.toMatchObject({ problems: [expect.stringContaining('no answer within 50 ms')] });
    const next = s.nft.tryLoad('b\n');
    const marker = await request(() => s.spawner.processes[1], 1);
    // The old one's late words and end belong to no load.
    s.spawner.processes[0].printError('Error: late', 'list set inet mwan mwan-loaded-1');
    s.spawner.processes[1].printError(...markerError(marker));
    await expect(next).resolves.toBeUndefined();
  });

  it('runs one load at a time, in order', async () => {
    const s = session();
    const a = s.nft.tryLoad('a\n');
    const b = s.nft.tryLoad('b\n');
    const marker = await request(() => s.spawner.processes[0], 1);
    // The second is not sent before the first is answered.
    for (let i = 0; i < 5; i++) await flush();
    expect(s.spawner.processes[0].written).toHaveLength(1);
    s.spawner.processes[0].printError(...markerError(marker));
    await expect(a).resolves.toBeUndefined();
    const marker2 = await request(() => s.spawner.processes[0], 2);
    expect(readFileSync(s.path, 'utf8')).toBe('b\n');
    s.spawner.processes[0].printError(...markerError(marker2));
    await expect(b).resolves.toBeUndefined();
  });

  describe('current', () => {
    /** The listing request's two lines: the list command and the marker. */
    async function listRequest(s: ReturnType<typeof session>, n: number): Promise<string> {
      const deadline = Date.now() + 5000;
      while ((s.spawner.processes[0]?.written.length ?? 0) < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      const [command, marker] = (s.spawner.processes[0]?.written[n - 1] ?? '').trimEnd().split('\n');
      expect(command).toBe('list table inet mwan');
      return marker;
    }
    const TABLE = ['table inet mwan {', '\tchain lan {', '\t\tmeta mark set 0x1', '\t}', '}'];

    it('lists the table in the same nft, whichever of stdout and the marker on stderr comes first', async () => {
      const s = session();
      const first = s.nft.current();
      const marker = await listRequest(s, 1);
      s.spawner.processes[0].print(...TABLE);
      s.spawner.processes[0].printError(...markerError(marker));
      await expect(first).resolves.toBe(TABLE.join('\n'));

      const second = s.nft.current();
      const marker2 = await listRequest(s, 2);
      s.spawner.processes[0].printError(...markerError(marker2));
      s.spawner.processes[0].print(...TABLE.slice(0, 3));
      // Not answered before the table's closing brace.
      let settled = false;
      void second.then(() => (settled = true));
      for (let i = 0; i < 5; i++) await flush();
      expect(settled).toBe(false);
      s.spawner.processes[0].print(...TABLE.slice(3));
      await expect(second).resolves.toBe(TABLE.join('\n'));
      expect(s.spawner.processes).toHaveLength(1);
    });

    it('gives null for a table that does not exist, and fails on any other error', async () => {
      const s = session();
      const absent = s.nft.current();
      const marker = await listRequest(s, 1);
      s.spawner.processes[0].printError('Error: No such file or directory', 'list table inet mwan', '                ^^^^', ...markerError(marker));
      await expect(absent).resolves.toBeNull();
      const failed = s.nft.current();
      const marker2 = await listRequest(s, 2);
      s.spawner.processes[0].printError('Error: Operation not permitted', ...markerError(marker2));
      await expect(failed).rejects.toMatchObject({ problems: [expect.stringContaining('Operation not permitted')] });
    });

    it('takes no stdout as a load\'s answer, and a listing\'s lines only while it is asked for', async () => {
      const s = session();
      const load = s.nft.tryLoad('a\n');
      const marker = await request(() => s.spawner.processes[0], 1);
      s.spawner.processes[0].print('}', 'stray');
      s.spawner.processes[0].printError(...markerError(marker));
      await expect(load).resolves.toBeUndefined();
      const list = s.nft.current();
      const marker2 = await listRequest(s, 2);
      // A prompt or an echo before the table is not part of it.
      s.spawner.processes[0].print('nft> ', 'list table inet mwan', ...TABLE);
      s.spawner.processes[0].printError(...markerError(marker2));
      await expect(list).resolves.toBe(TABLE.join('\n'));
    });
  });

  it('refuses a script path nft could not quote, and loads nothing once closed', async () => {
    expect(() => new NftSession(new FakeSpawner(), '/run/a"b/x.nft')).toThrow(/without quotes, backslashes or wildcards/);
    expect(() => new NftSession(new FakeSpawner(), '/run/mwan*/x.nft')).toThrow(/wildcards/);
    const s = session();
    s.nft.close();
    await expect(s.nft.tryLoad('a\n')).rejects.toMatchObject({ problems: ['nft -i: the session is closed'] });
    expect(s.spawner.processes).toHaveLength(0);
  });
});
