export interface TraceFilter {
  from?: string;
  to?: string;
  port?: number;
}

/** The comment that finds this process's trace rules again (and tells a person what they are). */
export const traceComment = (pid: number) => `mwan: trace ${pid}`;

/**
 * The rule `mwan trace` adds at the top of a base chain of `inet mwan`: the new connections that
 * match the filters get nftrace, so `nft monitor trace` shows their first packet's way.
 */
export function traceRule(filter: TraceFilter, pid: number): string[] {
  return [
    'meta', 'nfproto', 'ipv4',
    ...(filter.from ? ['ip', 'saddr', filter.from] : []),
    ...(filter.to ? ['ip', 'daddr', filter.to] : []),
    ...(filter.port !== undefined ? ['meta', 'l4proto', '{', 'tcp,', 'udp,', 'sctp,', 'dccp', '}', 'th', 'dport', String(filter.port)] : []),
    'ct', 'state', 'new', 'meta', 'nftrace', 'set', '1', 'comment', `"${traceComment(pid)}"`,
  ];
}

/** The handle in `nft --echo --handle` output: `insert rule ... # handle 49`. */
export function handleFromEcho(text: string): number | undefined {
  const match = /# handle (\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
}
