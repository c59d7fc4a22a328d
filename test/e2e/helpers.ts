import { readFile } from 'node:fs/promises';
import { expect } from '@jest/globals';
import { execa } from 'execa';
import { Lab, namespacesStartingWith, sweepStaleLabs, type LabOptions, type TrafficServer } from '@mwan/lab';

/**
 * Builds a lab for a test file, failing (never skipping) with the reason when the machine cannot
 * run namespace tests: not root, no `ip netns`, no veth.
 */
export async function createLab(prefix: string, options: LabOptions = {}): Promise<Lab> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`e2e tests need root: they create network namespaces (uid is ${process.getuid()}); run them as root, as CI does`);
  }
  try {
    // What a killed earlier run of this file left behind (its process is dead) goes first.
    await sweepStaleLabs(prefix);
    return await Lab.create({ prefix, ...options });
  } catch (error) {
    throw new Error(`e2e tests cannot create network namespaces: ${(error as Error).message}`, { cause: error });
  }
}

/** The names this process's labs of `prefix` start with. */
export const stemOf = (prefix: string): string => `${prefix}-${process.pid}-`;

/** Namespaces this process left behind for `prefix` (should be none after destroy). */
export const leftovers = (prefix: string): Promise<string[]> => namespacesStartingWith(stemOf(prefix));

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Count of each link (by name) among addresses seen by the server. */
export function splitBySnat(lab: Lab, sources: readonly (string | undefined)[]): Record<string, number> {
  const split: Record<string, number> = Object.fromEntries(lab.links.map((l) => [l.name, 0]));
  for (const src of sources) {
    const link = src === undefined ? undefined : lab.linkBySnatAddress(src);
    if (!link) throw new Error(`the server saw ${src}, which is no link's address`);
    split[link.name]++;
  }
  return split;
}

/** Each link's mark, as `mwan status --json` reports it after an apply. */
export async function linkMarks(lab: Lab): Promise<Record<string, number>> {
  const status = await lab.mwanOk(['status', '--json']);
  const parsed = JSON.parse(status.stdout) as { links: { name: string; mark: number }[] };
  return Object.fromEntries(parsed.links.map((l) => [l.name, l.mark]));
}

/** No mwan state, no tracked connection, nothing seen by the server: each test's counts are its own. */
export async function freshRouter(lab: Lab, server: TrafficServer): Promise<void> {
  await lab.mwanOk(['down']);
  await lab.flushConntrack();
  server.clear();
}

/** `count` new connections from the LAN per protocol, all answered; per link, how many the server saw. */
export async function splitOfNew(lab: Lab, server: TrafficServer, count: number, protos: readonly ('tcp' | 'udp')[] = ['tcp']): Promise<Record<string, number>> {
  server.clear();
  for (const proto of protos) {
    const results = await lab.connect({ proto, count });
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }
  return splitBySnat(lab, server.records().map((r) => r.src));
}

/** The ping processes in the lab's router namespace: what a running `mwan watch` keeps running. */
export async function pingsIn(lab: Lab): Promise<number[]> {
  const { stdout } = await execa('ip', ['netns', 'pids', lab.ns.router], { reject: false });
  const pids = stdout.split('\n').filter(Boolean).map(Number);
  const names = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')));
  return pids.filter((_, i) => names[i].trim() === 'ping');
}
