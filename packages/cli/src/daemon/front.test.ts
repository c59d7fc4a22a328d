import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

// The built front (`npm run build` compiles it; `npm test` builds before the unit tests).
const FRONT = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/mwan-front');
const tmp = mkdtempSync(join(tmpdir(), 'mwan-front-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

/**
 * A copy of the front in `<dir>/dist`, with a node CLI beside it (`<dir>/bin/mwan.js`) that
 * prints its arguments as JSON and exits 7: what the front runs when no daemon takes the line.
 */
function install(): { dir: string; front: string; runDir: string } {
  if (!existsSync(FRONT)) throw new Error(`${FRONT} is missing: run npm run build`);
  const dir = join(tmp, `front-${++counter}`);
  mkdirSync(join(dir, 'dist'), { recursive: true });
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'run'));
  const front = join(dir, 'dist', 'mwan-front');
  copyFileSync(FRONT, front);
  chmodSync(front, 0o755);
  writeFileSync(join(dir, 'bin', 'mwan.js'), `#!${process.execPath}\nprocess.stdout.write(JSON.stringify({ cli: process.argv.slice(2) }));\nprocess.exitCode = 7;\n`, { mode: 0o755 });
  return { dir, front, runDir: join(dir, 'run') };
}

/**
 * A daemon that answers `answer` (raw text; undefined: closes without a word) once a connection
 * has sent a newline. `lines` holds what each connection sent up to then, newline included.
 */
async function daemon(socket: string, answer: string | undefined): Promise<{ server: Server; lines: string[] }> {
  const lines: string[] = [];
  const server = createServer((conn) => {
    let text = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      lines.push(text);
      if (answer === undefined) conn.end();
      else conn.end(answer);
    });
  });
  await new Promise<void>((done) => server.listen(socket, done));
  return { server, lines };
}

/** The request a connection sent: exactly one line of JSON. */
function request(sent: string): unknown {
  expect(sent.indexOf('\n')).toBe(sent.length - 1);
  return JSON.parse(sent);
}

const close = (server: Server) => new Promise((done) => server.close(done));
const run = (front: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
  execa(front, args, { reject: false, cwd: options.cwd ?? '/', env: options.env ?? {}, extendEnv: false, encoding: 'buffer', stripFinalNewline: false });

describe('mwan-front', () => {
  it('runs the node CLI with the same arguments when no daemon listens', async () => {
    const f = install();
    const args = ['--run-dir', f.runDir, 'status', '--json'];
    const r = await run(f.front, args);
    expect(r.exitCode).toBe(7);
    expect(JSON.parse(Buffer.from(r.stdout).toString())).toEqual({ cli: args });
  });

  it('sends the command line once and prints the daemon\'s answer byte for byte, with its exit code', async () => {
    const f = install();
    // As JSON text, with the escapes JSON.stringify would not write (\u, a surrogate pair).
    const d = await daemon(join(f.runDir, 'mwan.sock'), String.raw`{"exitCode":3,"stdout":"a\n","stderr":"é \u263a \ud83d\ude00 \"q\" \\ \t\n","front":true}` + '\n');
    try {
      const odd = 'a "quoted" back\\slash\nnew line ünï ☺';
      const args = ['--run-dir', f.runDir, 'apply', odd, '\u0001'];
      const r = await run(f.front, args, { cwd: f.dir });
      expect(r.exitCode).toBe(3);
      expect(Buffer.from(r.stdout).toString()).toBe('a\n');
      expect(Buffer.from(r.stderr).toString()).toBe('é ☺ 😀 "q" \\ \t\n');
      expect(d.lines).toHaveLength(1);
      expect(request(d.lines[0])).toEqual({ version: 1, command: '', argv: args, front: { cwd: f.dir, runDir: null } });
    } finally {
      await close(d.server);
    }
  });

  it('finds the socket under MWAN_RUN_DIR, or a relative --run-dir under its working directory', async () => {
    const f = install();
    // Keys in another order, spaces, keys it does not read (nested too), \/ and a lone surrogate.
    const d = await daemon(join(f.runDir, 'mwan.sock'), String.raw`{ "stderr": "", "extra": [1, {"a": null}], "exitCode": 0, "front": true, "stdout": "ok\/\ud800\n" }`);
    try {
      const byEnv = await run(f.front, ['status'], { env: { MWAN_RUN_DIR: f.runDir } });
      expect([byEnv.exitCode, Buffer.from(byEnv.stdout).toString()]).toEqual([0, 'ok/\ufffd\n']);
      expect((request(d.lines[0]) as { front: unknown }).front).toEqual({ cwd: '/', runDir: f.runDir });
      const relative = await run(f.front, ['--run-dir=run', 'status'], { cwd: f.dir });
      expect([relative.exitCode, Buffer.from(relative.stdout).toString()]).toEqual([0, 'ok/\ufffd\n']);
      expect((request(d.lines[1]) as { front: unknown }).front).toEqual({ cwd: f.dir, runDir: null });
      // The last --run-dir wins, and an empty one means none, as in the node CLI.
      const reset = await run(f.front, ['--run-dir', join(f.dir, 'elsewhere'), '--run-dir=', 'status'], { env: { MWAN_RUN_DIR: f.runDir } });
      expect([reset.exitCode, Buffer.from(reset.stdout).toString()]).toEqual([0, 'ok/\ufffd\n']);
      expect(d.lines).toHaveLength(3);
    } finally {
      await close(d.server);
    }
  });

  it('runs the node CLI when the daemon answers fallback, or answers as one that knows no front, or when --run-dir has no value', async () => {
    // As the daemon answers, fallback alone, and a daemon from before fronts refusing the line unrun.
    for (const answer of [
      '{"exitCode":0,"stdout":"","stderr":"","fallback":true,"front":true}\n', '{"fallback":true}',
      '{"exitCode":2,"stdout":"","stderr":"mwan: the daemon carries out apply, down, confirm, status only, not \\"\\"\\n"}\n',
    ]) {
      const f = install();
      const d = await daemon(join(f.runDir, 'mwan.sock'), answer);
      try {
        const fallback = await run(f.front, ['--run-dir', f.runDir, 'render']);
        expect([answer, fallback.exitCode, JSON.parse(Buffer.from(fallback.stdout).toString())]).toEqual([answer, 7, { cli: ['--run-dir', f.runDir, 'render'] }]);
        expect(d.lines).toHaveLength(1);
        const noValue = await run(f.front, ['status', '--run-dir'], { env: { MWAN_RUN_DIR: f.runDir } });
        expect([noValue.exitCode, JSON.parse(Buffer.from(noValue.stdout).toString())]).toEqual([7, { cli: ['status', '--run-dir'] }]);
        expect(d.lines).toHaveLength(1);
      } finally {
        await close(d.server);
      }
    }
  });

  it('never runs a sent command line a second time: no answer, or no exit code in it, is an error (exit 1)', async () => {
    for (const answer of [undefined, '{"stdout":"x","stderr":""}\n', 'not json']) {
      const f = install();
      const socket = join(f.runDir, 'mwan.sock');
      const d = await daemon(socket, answer);
      try {
        // A relative run dir: the message names the socket by its full path.
        const r = await run(f.front, ['--run-dir', 'run', 'apply'], { cwd: f.dir });
        expect([answer, r.exitCode, Buffer.from(r.stdout).toString(), Buffer.from(r.stderr).toString()])
          .toEqual([answer, 1, '', `mwan: mwan watch at ${socket} ended the connection without an answer (did it stop?)\n`]);
        expect(d.lines).toHaveLength(1);
      } finally {
        await close(d.server);
      }
    }
  });
});
