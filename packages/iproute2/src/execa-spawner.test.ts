import { describe, expect, it } from '@jest/globals';
import { ExecaSpawner } from './execa-spawner.js';
import type { SpawnEnd } from './spawner.js';

function run(file: string, args: readonly string[]) {
  const lines: string[] = [];
  const ended = new Promise<SpawnEnd>((resolve) => {
    const spawned = new ExecaSpawner().spawn(file, args, {
      line: (stream, text) => lines.push(`${stream}: ${text}`),
      exit: resolve,
    });
    if (args.includes('hang')) spawned.kill();
  });
  return { lines, ended };
}

describe('ExecaSpawner', () => {
  it('streams stdout and stderr line by line, in the C locale, and tells the exit after the last line', async () => {
    const script = 'console.log("one\\ntwo"); console.error("ping: " + process.env.LC_ALL); process.exitCode = 2;';
    const { lines, ended } = run(process.execPath, ['-e', script]);
    expect(await ended).toEqual({ exitCode: 2 });
    expect(lines.sort()).toEqual(['stderr: ping: C', 'stdout: one', 'stdout: two']);
  });

  it('tells the signal of a killed command', async () => {
    const { ended } = run(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'hang']);
    expect(await ended).toEqual({ signal: 'SIGTERM' });
  });

  it('tells why a command could not start', async () => {
    const { ended } = run('/nonexistent/ping', []);
    expect((await ended).error).toMatch(/ENOENT/);
  });
});
