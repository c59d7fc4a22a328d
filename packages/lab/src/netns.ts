import { execa, execaSync } from 'execa';

/** Runs `cmd args` inside a namespace and returns stdout; throws with stderr on failure. */
export async function inNamespace(ns: string, cmd: string, args: readonly string[], input?: string): Promise<string> {
  const result = await execa('ip', ['netns', 'exec', ns, cmd, ...args], { ...(input !== undefined ? { input } : {}) });
  return result.stdout;
}

export async function addNamespace(name: string): Promise<void> {
  await execa('ip', ['netns', 'add', name]);
}

/** Names from `ip netns list` ("name (id: 3)" lines). */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await execa('ip', ['netns', 'list']);
  return parseNetnsList(stdout);
}

export function listNamespacesSync(): string[] {
  return parseNetnsList(execaSync('ip', ['netns', 'list']).stdout);
}

export function parseNetnsList(text: string): string[] {
  return text.split('\n').map((line) => line.trim().split(/\s+/)[0]).filter(Boolean);
}

/** Pids of processes living in the namespace (they would keep it alive after `ip netns del`). */
async function namespacePids(name: string): Promise<number[]> {
  const result = await execa('ip', ['netns', 'pids', name], { reject: false });
  return result.stdout.split('\n').map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Kills what runs inside, then deletes the namespace. Missing namespaces are fine. */
export async function removeNamespace(name: string): Promise<void> {
  for (const pid of await namespacePids(name)) kill(pid);
  const result = await execa('ip', ['netns', 'del', name], { reject: false });
  if (result.exitCode !== 0 && (await listNamespaces()).includes(name)) {
    throw new Error(`cannot delete namespace ${name}: ${result.stderr}`);
  }
}

/** For process exit, where nothing asynchronous runs any more. */
export function removeNamespaceSync(name: string): void {
  const pids = execaSync('ip', ['netns', 'pids', name], { reject: false }).stdout;
  for (const pid of pids.split('\n').map(Number).filter((p) => Number.isInteger(p) && p > 0)) kill(pid);
  execaSync('ip', ['netns', 'del', name], { reject: false });
}
