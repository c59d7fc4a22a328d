// What the reliability tests share: the router's state as the kernel prints it, mwan runs that
// can be given faults or killed, and waiting on files with a deadline.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { findMwanCli, type Lab } from '@mwan/lab';
import { pollUntil } from './helpers.js';

/** What "byte-identical" compares: the three listings, exactly as the tools print them. */
export interface RouterState {
  ruleset: string;
  rules: string;
  routes: string;
}

export async function routerState(lab: Lab): Promise<RouterState> {
  const [ruleset, rules, routes] = await Promise.all([
    lab.exec('router', 'nft', ['list', 'ruleset']),
    lab.exec('router', 'ip', ['-json', 'rule']),
    lab.exec('router', 'ip', ['-json', 'route', 'show', 'table', 'all']),
  ]);
  return { ruleset: ruleset.stdout, rules: rules.stdout, routes: routes.stdout };
}

/** The sysctls mwan may change in a lab of `links` links. */
export async function routerSysctls(lab: Lab): Promise<Record<string, string>> {
  const names = ['net.ipv4.ip_forward', ...lab.links.map((l) => `net.ipv4.conf.${l.routerInterface}.rp_filter`)];
  const { stdout } = await lab.exec('router', 'sysctl', names);
  return Object.fromEntries(stdout.trim().split('\n').map((line) => line.split(' = ') as [string, string]));
}

/** The run dir's files, by name, as text (the lock as the pid inside it). */
export function runDirFiles(lab: Lab): Record<string, string | null> {
  const read = (name: string) => (existsSync(join(lab.runDir, name)) ? readFileSync(join(lab.runDir, name), 'utf8') : null);
  return { 'state.json': read('state.json'), 'journal.json': read('journal.json'), 'confirm.json': read('confirm.json'), lock: read('lock/pid') };
}

function which(tool: string, path = process.env.PATH ?? ''): string {
  for (const dir of path.split(delimiter)) if (dir && existsSync(join(dir, tool))) return join(dir, tool);
  throw new Error(`${tool} is not on PATH`);
}

/** `ip` itself, so an mwan started with a fault PATH is still entered into its namespace by the real one. */
const IP = which('ip', `${process.env.PATH ?? ''}:/usr/sbin:/sbin`);

export interface Fault {
  tool: 'ip' | 'nft' | 'conntrack';
  /** RegExp source, tried on "TOOL ARGS\nSTDIN". */
  match: string;
  action: 'fail' | 'fail-after' | 'hang' | 'hang-after' | 'pause';
  message?: string;
}

/**
 * Stand-ins for ip, nft and conntrack that inject one fault (see fault-tools/fault.js), each in
 * a directory of its own: only the faulted tool goes through a stand-in, the rest stay direct.
 */
export class FaultTools {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'mwan-faults-'));
    const fault = fileURLToPath(new URL('./fault-tools/fault.js', import.meta.url));
    for (const tool of ['ip', 'nft', 'conntrack']) {
      mkdirSync(join(this.dir, tool));
      const path = join(this.dir, tool, tool);
      writeFileSync(path, `#!${process.execPath}\nprocess.env.MWAN_FAULT_TOOL = ${JSON.stringify(tool)};\nawait import(${JSON.stringify(fault)});\n`);
      chmodSync(path, 0o755);
    }
  }

  /** The environment of an mwan that meets `fault`; `state` is the directory it reports in. */
  env(fault: Fault, state: string): NodeJS.ProcessEnv {
    const path = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
    return {
      PATH: `${join(this.dir, fault.tool)}${delimiter}${path}`,
      MWAN_FAULT_PATH: path,
      MWAN_FAULT: JSON.stringify({ ...fault, dir: state }),
    };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A running mwan in the router namespace that the test may kill. */
export interface MwanRun {
  child: ResultPromise<{ reject: false }>;
  result: Promise<{ exitCode: number | undefined; signal: string | undefined; stdout: string; stderr: string }>;
}

/** Starts the real CLI in the router, with extra environment (faults), without waiting for it. */
export function startMwan(lab: Lab, args: readonly string[], env: NodeJS.ProcessEnv = {}): MwanRun {
  const child = execa(IP, ['netns', 'exec', lab.ns.router, process.execPath, findMwanCli(), '--run-dir', lab.runDir, ...args], {
    reject: false,
    env: { MWAN_RUN_DIR: lab.runDir, ...env },
    timeout: 60_000,
  });
  const result = child.then((r) => ({ exitCode: r.exitCode, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) }));
  return { child, result };
}

/** A fresh directory for one fault's files (reached, release, triggered). */
export function faultState(lab: Lab, name: string): string {
  const dir = join(lab.dir, `fault-${name}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir);
  return dir;
}

/** Waits for the fault to be reached; returns the pid of the stand-in tool that holds it. */
export async function reached(state: string, timeoutMs = 20_000): Promise<number> {
  return pollUntil(async () => (existsSync(join(state, 'reached')) ? Number(readFileSync(join(state, 'reached'), 'utf8')) : undefined), `fault in ${state} reached`, timeoutMs, 20);
}

export function release(state: string): void {
  writeFileSync(join(state, 'release'), '');
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killIfAlive(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid !== undefined && pid > 0 && alive(pid)) process.kill(pid, signal);
}
