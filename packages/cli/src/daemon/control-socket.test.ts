import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectControl, type ControlAnswer, type ControlRequest } from './control-protocol.js';
import { frontRequest, startControlServer } from './control-socket.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-control-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** One raw line to the socket, and the answer as parsed. */
async function send(path: string, line: string): Promise<ControlAnswer> {
  const socket = await connectControl(path);
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(JSON.parse(text) as ControlAnswer));
    socket.write(`${line}\n`);
  });
}

const front = (argv: string[], cwd: string, runDir: string | null = null) => ({ version: 1, command: '', argv, front: { cwd, runDir } });

describe('frontRequest', () => {
  it('parses a front\'s command line as the node CLI\'s hand-over does, for this socket only', () => {
    const path = '/run/mwan/mwan.sock';
    expect(frontRequest(front(['apply', '-c', 'm.json'], '/etc/mwan') as ControlRequest, path)).toEqual({
      version: 1, command: 'apply', argv: ['apply', '-c', 'm.json', '--config', '/etc/mwan/m.json', '--run-dir', '/run/mwan'],
    });
    // The run dir as the front found it: MWAN_RUN_DIR, or a relative --run-dir under its cwd.
    expect(frontRequest(front(['status'], '/', '/run/mwan/') as ControlRequest, path)?.command).toBe('status');
    expect(frontRequest(front(['--run-dir', 'mwan', 'down'], '/run') as ControlRequest, path)?.command).toBe('down');
    // Another daemon's run dir, another command, help: not this daemon's to run.
    for (const [argv, runDir] of [[['status'], '/tmp/other'], [['render'], null], [['apply', '--help'], null], [['status', '--watch'], null], [['apply', '--strategy'], null]] as const) {
      expect([argv, frontRequest(front([...argv], '/', runDir) as ControlRequest, path)]).toEqual([argv, undefined]);
    }
  });
});

describe('startControlServer', () => {
  it('answers a front with fallback when the command line is not its own, and runs it when it is', async () => {
    const runDir = mkdtempSync(join(tmp, 'run-'));
    const path = join(runDir, 'mwan.sock');
    const handled: ControlRequest[] = [];
    const server = await startControlServer(path, async (request) => {
      handled.push(request);
      return { exitCode: 4, stdout: 'done\n', stderr: '' };
    });
    try {
      expect(await send(path, JSON.stringify(front(['render'], '/', runDir)))).toEqual({ exitCode: 0, stdout: '', stderr: '', fallback: true, front: true });
      expect(handled).toEqual([]);
      expect(await send(path, JSON.stringify(front(['status', '--json'], '/', runDir)))).toEqual({ exitCode: 4, stdout: 'done\n', stderr: '', front: true });
      // Not to a request of the node CLI's own.
      expect(await send(path, JSON.stringify({ version: 1, command: 'status', argv: ['status'] }))).toEqual({ exitCode: 4, stdout: 'done\n', stderr: '' });
      expect(handled[0]).toEqual({ version: 1, command: 'status', argv: ['status', '--json', '--config', '/etc/mwan/mwan.json', '--run-dir', runDir] });
      // A front field that is not what a front sends: refused like any request it does not understand.
      expect(await send(path, JSON.stringify({ ...front(['status'], 'relative', runDir) }))).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('does not understand') });
      expect(handled).toHaveLength(2);
    } finally {
      await server.close();
    }
  });
});
