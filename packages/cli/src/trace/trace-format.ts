import { hex } from '@mwan/core';
import type { TracedConnection } from './trace-parser.js';

/** What `mwan trace` reports per connection, after the link and NAT address are looked up. */
export interface TraceReport {
  protocol: string;
  from: string;
  to: string;
  sport: number | null;
  dport: number | null;
  /** `prerouting` (LAN or inbound) or `output` (the router's own). */
  hook: string;
  iif: string | null;
  chain: string | null;
  rule: string | null;
  link: string | null;
  mark: number | null;
  interface: string | null;
  nat: string | null;
  /** False when the trace stopped before postrouting (dropped, or gone elsewhere). */
  complete: boolean;
}

export interface TraceLink {
  name: string;
  mark: number;
}

/** The link: the chain mwan's verdict went to (`pick_isp1`), else the mark's owner. */
export function toReport(conn: TracedConnection, links: readonly TraceLink[], mask: number, nat: string | undefined): TraceReport {
  const byChain = conn.linkChain ? /^(?:pick|restore)_(.+)$/.exec(conn.linkChain)?.[1] : undefined;
  const mark = conn.mark === undefined ? null : (conn.mark & mask) >>> 0;
  const link = links.find((l) => l.name === byChain) ?? (mark ? links.find((l) => l.mark === mark) : undefined);
  return {
    protocol: conn.protocol,
    from: conn.src,
    to: conn.dst,
    sport: conn.sport ?? null,
    dport: conn.dport ?? null,
    hook: conn.hook,
    iif: conn.iif ?? null,
    chain: conn.rule?.chain ?? null,
    rule: conn.rule?.text ?? null,
    link: link?.name ?? null,
    mark: link?.mark ?? (mark || null),
    interface: conn.oif ?? null,
    nat: nat ?? conn.nat?.address ?? null,
    complete: conn.complete,
  };
}

const endpoint = (address: string, port: number | null) => (port === null ? address : `${address}:${port}`);

/** Two lines per connection: what went where, then the rule that chose its link. */
export function formatTrace(report: TraceReport): string {
  const head = `${endpoint(report.from, report.sport)} → ${endpoint(report.to, report.dport)} ${report.protocol}`;
  const link = report.link ? `link ${report.link} (mark ${hex(report.mark ?? 0)})` : report.mark ? `mark ${hex(report.mark)} (no link of the last apply)` : 'no link (mwan left it alone)';
  const out = report.interface ? `out ${report.interface}` : report.complete ? 'out ?' : 'did not leave (dropped or delivered locally)';
  const nat = report.nat ? `nat ${report.nat}` : 'no nat';
  const rule = report.rule ? `  rule (${report.chain}): ${report.rule}` : '  rule: none of mwan\'s selecting rules';
  return `${head}  ${link}  ${out}  ${nat}\n${rule}\n`;
}
