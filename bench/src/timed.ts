import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { findMwanCli, type Lab } from '@mwan/lab';
import { SEED_SCRIPT } from './paths.js';

export interface Timing {
  wallMs: number;
  /** User + system CPU of the command and everything it ran (from GNU time). */
  cpuMs: number;
  exitCode: number;
  stderr: string;
}

const MARK = 'bench-time';

/**
 * Runs a command in a namespace under GNU time: wall clock measured here around the whole
 * `ip netns exec`, CPU as the command's own rusage (its children included).
 */
export async function timeInNamespace(ns: string, cmd: string, args: readonly string[]): Promise<Timing> {
  const started = performance.now();
  const result = await execa('ip', ['netns', 'exec', ns, '/usr/bin/time', '-f', `${MARK} %e %U %S`, cmd, ...args], { reject: false, timeout: 120_000 });
  const wallMs = performance.now() - started;
  const lines = (result.stderr ?? '').split('\n');
  const line = lines.reverse().find((l) => l.startsWith(MARK));
  const [, , user, sys] = (line ?? '').split(' ');
  return {
    wallMs,
    cpuMs: line ? (Number(user) + Number(sys)) * 1000 : NaN,
    exitCode: result.exitCode ?? -1,
    stderr: lines.filter((l) => !l.startsWith(MARK)).reverse().join('\n').trim(),
  };
}

/** The real CLI in the lab's router namespace, as `lab.mwan` runs it, but timed. */
export async function timeMwan(lab: Lab, args: readonly string[]): Promise<Timing> {
  const timing = await timeInNamespace(lab.ns.router, process.execPath, [findMwanCli(), '--run-dir', lab.runDir, ...args]);
  if (timing.exitCode !== 0) throw new Error(`mwan ${args.join(' ')}: exit ${timing.exitCode}: ${timing.stderr}`);
  return timing;
}

/** One run of the seed script in the router namespace, timed. */
export async function timeSeed(lab: Lab): Promise<Timing> {
  const timing = await timeInNamespace(lab.ns.router, 'env', ['IPT=iptables-legacy', SEED_SCRIPT]);
  if (timing.exitCode !== 0) throw new Error(`seed script: exit ${timing.exitCode}: ${timing.stderr}`);
  return timing;
}
