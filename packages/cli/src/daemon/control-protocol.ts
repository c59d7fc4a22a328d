// The client side of the daemon's control socket, on Node's own modules alone: `bin/mwan.js`
// loads it before anything else of mwan, to hand a command line to a running daemon.
import { createConnection, type Socket } from 'node:net';

/** The commands a running daemon carries out itself: the one writer of the router, and its status. */
export const DAEMON_COMMANDS = ['apply', 'down', 'confirm', 'status'] as const;
export type DaemonCommand = (typeof DAEMON_COMMANDS)[number];

export interface ControlRequest {
  version: 1;
  /** The subcommand the command line runs: the daemon refuses any but its own. */
  command: string;
  argv: string[];
  /**
   * Sent by `mwan-front` (the small native `mwan`), which leaves all parsing to the daemon:
   * `argv` is the command line as typed, with the front's working directory and MWAN_RUN_DIR.
   * The daemon takes it as the node CLI's hand-over would, or answers `fallback`.
   */
  front?: { cwd: string; runDir: string | null };
}

export interface ControlAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** To `mwan-front` only: this daemon does not carry out that command line; nothing was run. */
  fallback?: true;
  /**
   * On every answer to `mwan-front`: a daemon that knows fronts answered. Without it (a daemon
   * from before fronts refused the line unrun), the front runs the node CLI.
   */
  front?: true;
}

/** Connects to the socket; fails with the connect's own error (`code` ENOENT, ECONNREFUSED, EACCES …). */
export function connectControl(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** One request on a connected socket, and its answer; an Error with a message for people when there is none. */
export function exchange(socket: Socket, path: string, request: ControlRequest): Promise<ControlAnswer> {
  return new Promise<ControlAnswer>((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', (error) => reject(new Error(`mwan watch at ${path} failed to answer: ${error.message}`, { cause: error })));
    socket.on('end', () => {
      try {
        const answer = JSON.parse(text) as ControlAnswer;
        if (typeof answer.exitCode !== 'number') throw new Error('no exit code');
        resolve(answer);
      } catch {
        reject(new Error(`mwan watch at ${path} ended the connection without an answer (did it stop?)`));
      }
    });
    socket.write(`${JSON.stringify(request)}\n`);
  });
}
