import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { runtimeError } from '@mwan/core';
import { ensureDir } from '@mwan/engine';
import { connectControl, exchange, type ControlAnswer, type ControlRequest } from './control-protocol.js';
import { handOverRequest } from './hand-over.js';

/**
 * The daemon's control socket: one JSON line asks (a command line), one JSON line answers (what
 * that command printed and its exit code). The socket file is root's with mode 0600, so the
 * kernel refuses everyone else's connect().
 */
export type { ControlAnswer, ControlRequest } from './control-protocol.js';

/** A request larger than this is no command line: the connection is closed. */
const MAX_REQUEST_BYTES = 64 * 1024;

export interface ControlServer {
  close(): Promise<void>;
}

/**
 * Listens on `path`, created with mode 0600 (under a umask, so it is never reachable by others,
 * not even for a moment). A socket file left by a daemon that died is replaced; a live one is
 * another daemon's and fails the start.
 */
export async function startControlServer(path: string, handle: (request: ControlRequest) => Promise<ControlAnswer>): Promise<ControlServer> {
  await ensureDir(dirname(path));
  await removeStale(path);
  const server = createServer((socket) => serve(socket, path, handle));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The umask is the process's: it is set only around listen(), which binds the socket before
      // it returns, so no other file the daemon creates meanwhile gets it.
      const umask = process.umask(0o177);
      try {
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    });
  } catch (error) {
    throw runtimeError(`cannot listen on ${path}: ${(error as Error).message}`, error);
  }
  chmodSync(path, 0o600);
  return { close: () => closeServer(server, path) };
}

function serve(socket: Socket, path: string, handle: (request: ControlRequest) => Promise<ControlAnswer>): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_REQUEST_BYTES) return void socket.destroy();
    const end = buffer.indexOf('\n');
    if (end < 0) return;
    socket.pause();
    const answer = parseRequest(buffer.slice(0, end)).then(
      (request) => {
        if (!request.front) return handle(request);
        const asked = frontRequest(request, path);
        return asked ? handle(asked).then((a): ControlAnswer => ({ ...a, front: true })) : FALLBACK;
      },
      (error: unknown) => ({ exitCode: 2, stdout: '', stderr: `mwan: ${(error as Error).message}\n` }),
    );
    void answer.then((a) => socket.end(`${JSON.stringify(a)}\n`), () => socket.destroy());
  });
}

const FALLBACK: ControlAnswer = { exitCode: 0, stdout: '', stderr: '', fallback: true, front: true };

function parseRequest(line: string): Promise<ControlRequest> {
  const request = JSON.parse(line) as Partial<ControlRequest>;
  const front = request.front;
  if (
    request.version !== 1 || typeof request.command !== 'string' || !Array.isArray(request.argv) || !request.argv.every((a) => typeof a === 'string')
    || (front !== undefined && (typeof front !== 'object' || front === null || typeof front.cwd !== 'string' || !isAbsolute(front.cwd) || !(front.runDir === null || typeof front.runDir === 'string')))
  ) {
    return Promise.reject(new Error('the daemon does not understand this request (another mwan version?)'));
  }
  return Promise.resolve({ version: 1, command: request.command, argv: request.argv, ...(front ? { front: { cwd: front.cwd, runDir: front.runDir } } : {}) });
}

/**
 * A front's command line as the node CLI would hand it over (the same parse), when it is one
 * for this daemon: a daemon command, for the run dir this socket is in. Otherwise undefined,
 * and the front runs the node CLI, which does the work or says what is wrong.
 */
export function frontRequest(request: ControlRequest, path: string): ControlRequest | undefined {
  if (!request.front) return undefined;
  const env = request.front.runDir ? { MWAN_RUN_DIR: request.front.runDir } : {};
  const asked = handOverRequest(request.argv, env, request.front.cwd);
  return asked && resolve(asked.socket) === resolve(path) ? asked.request : undefined;
}

/**
 * Asks the daemon listening on `path` to run `argv`. `undefined`: no daemon listens (no socket
 * file, or one a dead daemon left), so the caller does the work itself. Refused (not root):
 * an error saying so, never a fallback that would write past the daemon.
 */
export async function askDaemon(path: string, command: string, argv: readonly string[]): Promise<ControlAnswer | undefined> {
  let socket: Socket;
  try {
    socket = await connectControl(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES' || code === 'EPERM') throw runtimeError(`only root may talk to mwan watch (${path}: permission denied)`);
    throw runtimeError(`cannot reach mwan watch at ${path}: ${(error as Error).message}`, error);
  }
  try {
    return await exchange(socket, path, { version: 1, command, argv: [...argv] });
  } catch (error) {
    throw runtimeError((error as Error).message, error);
  }
}

async function removeStale(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) throw runtimeError(`${path} exists and is not a socket: remove it`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const socket = await connectControl(path);
    socket.destroy();
    throw runtimeError(`another mwan watch listens on ${path}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw error;
  }
  unlinkSync(path);
}

function closeServer(server: Server, path: string): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      // net removes the socket file on close; one that is already gone is fine.
      try {
        unlinkSync(path);
      } catch {
        /* gone */
      }
      resolve();
    });
  });
}
