// What `bin/mwan.js` runs first: with `mwan watch` running, `mwan apply`, `down`, `confirm` and
// `status` only hand their command line to it and print its answer, so this process loads none
// of mwan but this file and the socket's protocol (a node start instead of a node start and the
// whole CLI: 0.13 s of CPU instead of 0.35 s on a small router). Anything this file is not sure
// about goes to the full CLI, which asks the daemon itself or does the work.
import { resolve } from 'node:path';
import { connectControl, DAEMON_COMMANDS, exchange, type ControlRequest } from './control-protocol.js';

/** As in @mwan/core and @mwan/engine (a unit test keeps them equal): importing those would load them. */
export const HAND_OVER_DEFAULTS = { config: '/etc/mwan/mwan.json', runDir: '/run/mwan' } as const;

/** Options that stop a hand-over: the full CLI prints help or the version itself. */
const OWN_ANSWERS = new Set(['-h', '--help', '-V', '--version', '--']);

/**
 * The daemon commands' options that take a value. One of them last on the line has none: the
 * full CLI says so, where the daemon would take the appended `--config` for it.
 */
export const VALUE_OPTIONS = new Set(['--strategy', '--wait', '--confirm', '--interval']);

/**
 * The request a command line makes of the daemon, and the socket to send it to; undefined when
 * the full CLI must look at it (another command, help, `status --watch`, option spellings it
 * does not know for sure). The global options are found wherever they are, the last one of each
 * winning, as the full CLI's parser does; the daemon parses the whole line again, so a wrong
 * option gets the same message and exit code as without a daemon.
 */
export function handOverRequest(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): { socket: string; request: ControlRequest } | undefined {
  let config: string | undefined;
  let runDir: string | undefined;
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (OWN_ANSWERS.has(arg)) return undefined;
    if (arg === '-c' || arg === '--config' || arg === '--run-dir') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
      if (arg === '--run-dir') runDir = value;
      else config = value;
    } else if (arg.startsWith('--config=')) config = arg.slice('--config='.length);
    else if (arg.startsWith('--run-dir=')) runDir = arg.slice('--run-dir='.length);
    // `-cFILE` and bundled short flags: left to the full parser.
    else if (/^-[^-]/.test(arg) && arg !== '-c') return undefined;
    else if (!arg.startsWith('-') && command === undefined) command = arg;
  }
  if (command === undefined || !(DAEMON_COMMANDS as readonly string[]).includes(command)) return undefined;
  if (VALUE_OPTIONS.has(argv.at(-1)!)) return undefined;
  if (command === 'status' && argv.includes('--watch')) return undefined;
  const dir = resolve(cwd, runDir || env.MWAN_RUN_DIR || HAND_OVER_DEFAULTS.runDir);
  return {
    socket: resolve(dir, 'mwan.sock'),
    request: { version: 1, command, argv: [...argv, '--config', resolve(cwd, config ?? HAND_OVER_DEFAULTS.config), '--run-dir', dir] },
  };
}

export interface HandOverIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: HandOverIo = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

/**
 * The exit code of a command line the daemon carried out, its answer printed; undefined when no
 * daemon took it (no socket, a dead one's, not root, not a daemon command): then the full CLI runs.
 * Once the request is sent it is never run a second time: a lost answer is an error (exit 1).
 */
export async function handOver(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, io: HandOverIo = processIo, cwd = process.cwd()): Promise<number | undefined> {
  const asked = handOverRequest(argv, env, cwd);
  if (!asked) return undefined;
  let socket;
  try {
    socket = await connectControl(asked.socket);
  } catch {
    // The full CLI tries again, and says why when it is not simply "no daemon".
    return undefined;
  }
  try {
    const answer = await exchange(socket, asked.socket, asked.request);
    io.out(answer.stdout);
    io.err(answer.stderr);
    return answer.exitCode;
  } catch (error) {
    io.err(`mwan: ${(error as Error).message}\n`);
    return 1;
  }
}
