import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Programs a traced command started, by name, from `strace -f -e trace=execve` output: only
 * successful execs count (PATH lookups try several directories first), and a call split over two
 * lines by another process's output (`<unfinished ...>` / `<... execve resumed>`) counts once.
 */
export function countExecs(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  const pending = new Map<string, string>();
  const add = (path: string) => {
    const name = basename(path);
    counts[name] = (counts[name] ?? 0) + 1;
  };
  for (const line of text.split('\n')) {
    const call = /^(\d+)\s+execve\("([^"]+)"/.exec(line);
    if (call) {
      if (line.includes('<unfinished ...>')) pending.set(call[1], call[2]);
      else if (/\)\s*=\s*0\s*$/.test(line)) add(call[2]);
      continue;
    }
    const resumed = /^(\d+)\s+<\.\.\. execve resumed>.*=\s*0\s*$/.exec(line);
    if (resumed && pending.has(resumed[1])) add(pending.get(resumed[1])!);
    if (resumed) pending.delete(resumed[1]);
  }
  return counts;
}

export const countExecsInFile = (path: string): Record<string, number> => countExecs(readFileSync(path, 'utf8'));
