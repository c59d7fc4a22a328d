import { NFT_FAMILY, NFT_TABLE, runtimeError } from '@mwan/core';
import type { NftLoader } from './nft-session.js';
import type { Runner } from './runner.js';

const TABLE = `${NFT_FAMILY} ${NFT_TABLE}`;

export interface SetElement {
  /** As nft lists it: an address for the sticky sets. */
  value: string;
  /** Seconds left before it times out (absent: it does not). */
  expiresSeconds?: number;
}

export interface CounterValue {
  packets: number;
  bytes: number;
}

/**
 * The nft side: only `table inet mwan` is ever named. A load is one `nft -f` transaction, so the
 * table is replaced whole or not at all.
 */
export class NftTable implements NftLoader {
  constructor(private readonly runner: Runner) {}

  /** `nft -c`: parses and checks against the kernel, changes nothing. */
  async check(text: string): Promise<void> {
    const result = await this.runner.run('nft', ['-c', '-f', '-'], { input: text, reject: false });
    if (result.exitCode !== 0) throw runtimeError(`nft rejected the ruleset:\n${(result.stderr || result.stdout).trimEnd()}`);
  }

  async load(text: string): Promise<void> {
    const result = await this.runner.run('nft', ['-f', '-'], { input: text, reject: false });
    if (result.exitCode !== 0) throw runtimeError(`nft -f failed:\n${(result.stderr || result.stdout).trimEnd()}`);
  }

  /**
   * Loads a ruleset, or returns what nft said when it refused it (exit 1: its one transaction
   * was not committed, so nothing changed). Any other failure (no nft, killed) throws: then
   * nothing can be said about what was loaded.
   */
  async tryLoad(text: string): Promise<string | undefined> {
    const result = await this.runner.run('nft', ['-f', '-'], { input: text, reject: false });
    if (result.exitCode === 0) return undefined;
    const said = (result.stderr || result.stdout).trimEnd();
    if (result.exitCode === 1) return said;
    throw runtimeError(`nft -f failed (exit ${result.exitCode}):\n${said}`);
  }

  /** The table as nft lists it, or null when it does not exist. */
  async current(): Promise<string | null> {
    const result = await this.runner.run('nft', ['list', 'table', NFT_FAMILY, NFT_TABLE], { reject: false });
    if (result.exitCode === 0) return result.stdout;
    if (/No such file or directory/.test(result.stderr)) return null;
    throw runtimeError(`nft list table ${TABLE} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  }

  /** Named counter values of the table; empty when the table is absent. */
  async counters(): Promise<Record<string, CounterValue>> {
    const result = await this.runner.run('nft', ['-j', 'list', 'counters', 'table', NFT_FAMILY, NFT_TABLE], { reject: false });
    if (result.exitCode !== 0) return {};
    const counters: Record<string, CounterValue> = {};
    try {
      const data = JSON.parse(result.stdout) as { nftables?: Array<{ counter?: { name: string; packets: number; bytes: number } }> };
      for (const item of data.nftables ?? []) {
        if (item.counter) counters[item.counter.name] = { packets: item.counter.packets, bytes: item.counter.bytes };
      }
    } catch (error) {
      throw runtimeError(`cannot read the output of nft -j list counters: ${(error as Error).message}`, error);
    }
    return counters;
  }

  /**
   * The elements of the table's named sets (the sticky rules' sources) with the seconds each has
   * left; empty when the table is absent.
   */
  async setElements(): Promise<Record<string, SetElement[]>> {
    const result = await this.runner.run('nft', ['-j', 'list', 'sets', 'table', NFT_FAMILY, NFT_TABLE], { reject: false });
    if (result.exitCode !== 0) return {};
    const sets: Record<string, SetElement[]> = {};
    try {
      type Elem = string | { elem?: { val?: unknown; expires?: number } };
      const data = JSON.parse(result.stdout) as { nftables?: Array<{ set?: { name: string; elem?: Elem[] } }> };
      for (const item of data.nftables ?? []) {
        if (!item.set) continue;
        sets[item.set.name] = (item.set.elem ?? []).flatMap((e): SetElement[] => {
          if (typeof e === 'object' && typeof e.elem?.val === 'string') return [{ value: e.elem.val, ...(typeof e.elem.expires === 'number' ? { expiresSeconds: e.elem.expires } : {}) }];
          return typeof e === 'string' ? [{ value: e }] : [];
        });
      }
    } catch (error) {
      throw runtimeError(`cannot read the output of nft -j list sets: ${(error as Error).message}`, error);
    }
    return sets;
  }

  /**
   * `add element` lines that put elements into sets of the table (in the same `nft -f` as the
   * table they follow, so in its transaction): each with its set's timeout and the time it had left.
   */
  static addElementsScript(sets: readonly { name: string; seconds: number; elements: readonly SetElement[] }[]): string {
    const lines: string[] = [];
    for (const set of sets) {
      const items = set.elements
        .filter((e) => /^[0-9.]+$/.test(e.value) && (e.expiresSeconds === undefined || e.expiresSeconds >= 1))
        .map((e) => `${e.value} timeout ${set.seconds}s expires ${Math.min(e.expiresSeconds ?? set.seconds, set.seconds)}s`);
      for (let i = 0; i < items.length; i += 256) lines.push(`add element ${TABLE} ${set.name} { ${items.slice(i, i + 256).join(', ')} }`);
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  /** A script that puts `previous` back (or removes the table when there was none), in one transaction. */
  static restoreScript(previous: string | null): string {
    const reset = `table ${TABLE}\ndelete table ${TABLE}\n`;
    return previous === null ? reset : `${reset}${previous.endsWith('\n') ? previous : `${previous}\n`}`;
  }

  static removeScript(): string {
    return NftTable.restoreScript(null);
  }
}
