import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG_PATH } from '@mwan/core';
import { DEFAULT_RUN_DIR } from '@mwan/engine';
import { container as rootContainer } from 'tsyringe';
import { wire } from '../container.js';
import { createProgram } from '../program.js';
import { DAEMON_COMMANDS } from './control-protocol.js';
import { handOver, handOverRequest, HAND_OVER_DEFAULTS, VALUE_OPTIONS } from './hand-over.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-hand-over-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('handOverRequest', () => {
  it('keeps the defaults of the full CLI', () => {
    expect(HAND_OVER_DEFAULTS).toEqual({ config: DEFAULT_CONFIG_PATH, runDir: DEFAULT_RUN_DIR });
  });

  it('knows every option of the daemon commands that takes a value', () => {
    const program = createProgram({ container: wire(rootContainer.createChildContainer()), io: { out: () => {}, err: () => {} }, env: {} });
    const valued = program.commands.filter((c) => (DAEMON_COMMANDS as readonly string[]).includes(c.name()))
      .flatMap((c) => c.options.filter((o) => o.required || o.optional).map((o) => o.long!));
    expect([...new Set(valued)].sort()).toEqual([...VALUE_OPTIONS].sort());
  });

  it('sends the command line with the config and run dir made absolute, the last of each option winning', () => {
    expect(handOverRequest(['apply', '--confirm', '30', '-c', 'a.json', '--config=b.json'], {}, '/home/op')).toEqual({
      socket: '/run/mwan/mwan.sock',
      request: { version: 1, command: 'apply', argv: ['apply', '--confirm', '30', '-c', 'a.json', '--config=b.json', '--config', '/home/op/b.json', '--run-dir', '/run/mwan'] },
    });
    expect(handOverRequest(['--run-dir', 'r', 'status', '--json'], { MWAN_RUN_DIR: '/elsewhere' }, '/x')?.socket).toBe('/x/r/mwan.sock');
    expect(handOverRequest(['down'], { MWAN_RUN_DIR: '/elsewhere' }, '/x')?.request.argv).toEqual(['down', '--config', '/etc/mwan/mwan.json', '--run-dir', '/elsewhere']);
  });

  it('leaves to the full CLI what is not a daemon command line for sure', () => {
    for (const argv of [
      [], ['render'], ['watch'], ['apply', '--help'], ['-h'], ['--version'], ['status', '--watch'], ['apply', '-cfile.json'],
      ['apply', '--config'], ['apply', '--config', '--json'], ['--', 'apply'], ['trace', 'apply'],
      ['apply', '--strategy'], ['apply', '--wait'], ['apply', '--confirm'], ['status', '--interval'], ['down', '--wait'],
    ]) expect([argv, handOverRequest(argv, {}, '/')]).toEqual([argv, undefined]);
  });
});

describe('handOver', () => {
  it('prints the daemon\'s answer and returns its exit code; with no daemon, leaves the command to the full CLI', async () => {
    const runDir = join(tmp, 'run');
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(`out:${t}`), err: (t: string) => void out.push(`err:${t}`) };
    expect(await handOver(['status'], { MWAN_RUN_DIR: runDir }, io, '/')).toBeUndefined();

    rmSync(runDir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(runDir);
    const asked: string[] = [];
    const server = createServer((socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (line: string) => {
        asked.push(line);
        socket.end(`${JSON.stringify({ exitCode: 3, stdout: 'the status\n', stderr: 'a warning\n' })}\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(join(runDir, 'mwan.sock'), resolve));
    try {
      expect(await handOver(['status'], { MWAN_RUN_DIR: runDir }, io, '/')).toBe(3);
      expect(out).toEqual(['out:the status\n', 'err:a warning\n']);
      expect(JSON.parse(asked[0])).toEqual({ version: 1, command: 'status', argv: ['status', '--config', '/etc/mwan/mwan.json', '--run-dir', runDir] });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('never runs a command twice: an answer lost after sending is an error, exit 1', async () => {
    const runDir = mkdtempSync(join(tmp, 'lost-'));
    const server = createServer((socket) => socket.on('data', () => socket.end()));
    await new Promise<void>((resolve) => server.listen(join(runDir, 'mwan.sock'), resolve));
    const err: string[] = [];
    try {
      expect(await handOver(['apply'], { MWAN_RUN_DIR: runDir }, { out: () => {}, err: (t) => void err.push(t) }, '/')).toBe(1);
      expect(err).toEqual([`mwan: mwan watch at ${join(runDir, 'mwan.sock')} ended the connection without an answer (did it stop?)\n`]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
