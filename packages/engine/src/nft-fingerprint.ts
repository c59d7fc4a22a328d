import { createHash } from 'node:crypto';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export const fingerprintRendered = (text: string): string => sha256(text);

/**
 * A listed table without its counter values, which change with every packet, and without the
 * elements of its sets: only the sticky rules' dynamic sets have any (sources the packet path
 * adds and times out), and an address has no `}`.
 */
export const fingerprintListed = (text: string): string => sha256(text
  .replace(/packets \d+ bytes \d+/g, 'packets _ bytes _')
  .replace(/^[ \t]*elements = \{[^}]*\}\n?/gm, ''));

const RUNTIME_RULE = /^\s*.*comment "mwan: (?:trace|use) (\d+)(?: [^"]*)?"\s*$/;
const RUNTIME_CHAIN = /^\s*chain use_(\d+) \{$/;

/**
 * A listed table without what `mwan trace` and `mwan use` add while they run (rules commented
 * `mwan: trace PID` / `mwan: use PID link L`, and `chain use_PID`), for the processes that are
 * still alive: those are no drift to repair. Left by a process that died, they are.
 */
export function withoutLiveAdditions(text: string, alive: (pid: number) => boolean): string {
  const out: string[] = [];
  let skippingChain = false;
  for (const line of text.split('\n')) {
    if (skippingChain) {
      if (/^\s*\}$/.test(line)) skippingChain = false;
      continue;
    }
    const chain = RUNTIME_CHAIN.exec(line);
    if (chain && alive(Number(chain[1]))) {
      skippingChain = true;
      continue;
    }
    const rule = RUNTIME_RULE.exec(line);
    if (rule && alive(Number(rule[1]))) continue;
    out.push(line);
  }
  return out.join('\n');
}
