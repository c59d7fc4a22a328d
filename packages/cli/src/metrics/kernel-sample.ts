import { NFT_FAMILY, NFT_TABLE } from '@mwan/core';
import type { Runner } from '@mwan/iproute2';

/** What one reading of the kernel says about mwan's links, before any carrying. */
export interface KernelSample {
  /** The handle of `table inet mwan` (a new one after every swap), or null without the table. */
  tableHandle: number | null;
  /** Packets of each named counter of the table (one per new connection given to a link). */
  counters: Record<string, number>;
  /** Interface counters by name, with the index that identifies the interface. */
  interfaces: Record<string, { ifindex: number; rxPackets: number; rxBytes: number; txPackets: number; txBytes: number }>;
  /** Conntrack entries by their ct mark's masked bits; null when conntrack cannot tell. */
  conntrackByMark: Map<number, number> | null;
}

/** `nft -j list table inet mwan`: the table's handle and its counters come from one dump. */
export function parseNftTable(json: string): Pick<KernelSample, 'tableHandle' | 'counters'> {
  const data = JSON.parse(json) as { nftables?: Array<{ table?: { name: string; family: string; handle: number }; counter?: { name: string; packets: number } }> };
  let tableHandle: number | null = null;
  const counters: Record<string, number> = {};
  for (const item of data.nftables ?? []) {
    if (item.table && item.table.name === NFT_TABLE && item.table.family === NFT_FAMILY) tableHandle = item.table.handle;
    if (item.counter) counters[item.counter.name] = item.counter.packets;
  }
  return { tableHandle, counters };
}

/** `ip -s -json link show`: per interface its index and the 64-bit counters. */
export function parseIpLinkStats(json: string): KernelSample['interfaces'] {
  const links = JSON.parse(json) as Array<{ ifindex: number; ifname: string; stats64?: { rx: { bytes: number; packets: number }; tx: { bytes: number; packets: number } } }>;
  const out: KernelSample['interfaces'] = {};
  for (const link of links) {
    if (!link.stats64) continue;
    out[link.ifname] = { ifindex: link.ifindex, rxPackets: link.stats64.rx.packets, rxBytes: link.stats64.rx.bytes, txPackets: link.stats64.tx.packets, txBytes: link.stats64.tx.bytes };
  }
  return out;
}

/** Entries of `conntrack -L` counted by `mark & mask` (one dump for every link). */
export function countByMark(text: string, mask: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const match of text.matchAll(/\bmark=(\d+)/g)) {
    const mark = (Number(match[1]) & mask) >>> 0;
    counts.set(mark, (counts.get(mark) ?? 0) + 1);
  }
  return counts;
}

/**
 * Reads the table, the interfaces and conntrack; a part that cannot be read is reported as
 * unknown. `countersOnly`: the table alone (just before an apply, which must not wait for a
 * conntrack dump).
 */
export async function readKernelSample(runner: Runner, mask: number, options: { countersOnly?: boolean } = {}): Promise<KernelSample> {
  const skipped = Promise.resolve({ exitCode: -1, stdout: '', stderr: '' });
  const [nft, ip, ct] = await Promise.all([
    runner.run('nft', ['-j', 'list', 'table', NFT_FAMILY, NFT_TABLE], { reject: false }),
    options.countersOnly ? skipped : runner.run('ip', ['-s', '-json', 'link', 'show'], { reject: false }),
    options.countersOnly ? skipped : runner.run('conntrack', ['-L'], { reject: false }),
  ]);
  const table = nft.exitCode === 0 ? parseNftTable(nft.stdout) : { tableHandle: null, counters: {} };
  return {
    ...table,
    interfaces: ip.exitCode === 0 ? parseIpLinkStats(ip.stdout) : {},
    conntrackByMark: ct.exitCode === 0 ? countByMark(ct.stdout, mask) : null,
  };
}
