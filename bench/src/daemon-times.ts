import type { TimedLine } from './watch-process.js';

/** Which of the daemon's reloads: SIGHUP, or a `mwan apply` it carried out for a client. */
export type DaemonReload = 'sighup' | 'apply';

const PATTERNS: Record<DaemonReload, RegExp> = {
  sighup: /^SIGHUP: reloaded .*: table swapped in (\d+) ms, done in \d+ ms$/,
  apply: /^apply: .* applied for mwan apply .*: table swapped in (\d+) ms, done in \d+ ms$/,
};

/**
 * The daemon's own time from request to swapped table (it logs it, on the monotonic clock) of
 * each reload of this kind that it logged at or after `after`, in order. A reload that left the
 * table as it was has no such time.
 */
export function daemonReloadMs(lines: readonly TimedLine[], kind: DaemonReload, after = -Infinity): number[] {
  const out: number[] = [];
  for (const line of lines) {
    if (line.at < after) continue;
    const m = PATTERNS[kind].exec(line.text);
    if (m) out.push(Number(m[1]));
  }
  return out;
}
