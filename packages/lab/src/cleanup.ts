import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PREFIX, parseLabName } from './names.js';
import { listNamespaces, removeNamespace } from './netns.js';

/** Something that can be torn down synchronously when the process is about to die. */
export interface Disposable {
  destroySync(): void;
}

const live = new Set<Disposable>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function onExit(): void {
  for (const lab of [...live]) lab.destroySync();
}

function onSignal(signal: NodeJS.Signals): void {
  onExit();
  uninstall();
  // Nobody else handles it: die of the signal as if we had never listened.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Destroy this lab if the process exits or is signalled before it is destroyed normally. */
export function track(lab: Disposable): void {
  live.add(lab);
  install();
}

export function untrack(lab: Disposable): void {
  live.delete(lab);
  if (live.size === 0) uninstall();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes namespaces (and temporary directories) of labs with this prefix whose creating process
 * is dead: what a crashed or killed run left behind. Labs of living processes are never touched.
 */
export async function sweepStaleLabs(prefix: string = DEFAULT_PREFIX): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listNamespaces()) {
    const parsed = parseLabName(name, prefix);
    if (parsed?.role && !alive(parsed.pid)) {
      await removeNamespace(name);
      removed.push(name);
    }
  }
  for (const name of readdirSync(tmpdir())) {
    const parsed = parseLabName(name, prefix);
    if (parsed && !parsed.role && !alive(parsed.pid)) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
      removed.push(join(tmpdir(), name));
    }
  }
  return removed;
}

/** Namespaces whose names start with `stem` (e.g. a prefix plus this process's pid). */
export async function namespacesStartingWith(stem: string): Promise<string[]> {
  return (await listNamespaces()).filter((name) => name.startsWith(stem));
}
