import { NFT_FAMILY, NFT_TABLE } from '@mwan/core';

/** One new connection as `nft monitor trace` showed its first packet going through mwan's table. */
export interface TracedConnection {
  id: string;
  /** `prerouting` (from the LAN, or inbound) or `output` (the router's own). */
  hook: 'prerouting' | 'output';
  iif?: string;
  protocol: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** The rule that chose the link, as nft lists it (without its verdict), and its chain. */
  rule?: { chain: string; text: string; verdict: string };
  /** The chain the verdict went to (`pick_isp1`, `restore_isp1`): names the link when mwan made it. */
  linkChain?: string;
  /** The packet mark when the chain was done (`policy accept meta mark 0x00000001`). */
  mark?: number;
  /** The interface it left by (the postrouting packet's `oif`). */
  oif?: string;
  /** The NAT rule it met, as nft lists it. */
  nat?: { chain: string; text: string; address?: string };
  /** True when the trace reached its end (NAT or postrouting's policy); false when it was given up on. */
  complete: boolean;
}

interface Partial {
  conn: TracedConnection;
  last: number;
  /** Chains of other tables or of another packet's path: nothing to take from them. */
}

const PREFIX = /^trace id (\w+) (\w+) (\S+) (\S+) (.*)$/;
const SELECTING_CHAIN = /^(pick|restore)_[a-z0-9_-]+$|^missed_restore$|^balance$/;

function field(text: string, re: RegExp): string | undefined {
  return re.exec(text)?.[1];
}

/** Parses `ip saddr A ip daddr B ... ip protocol tcp ... tcp sport 1 tcp dport 2`. */
function packetOf(text: string): Pick<TracedConnection, 'iif' | 'protocol' | 'src' | 'dst' | 'sport' | 'dport'> | undefined {
  const src = field(text, /\bip saddr (\S+)/);
  const dst = field(text, /\bip daddr (\S+)/);
  if (!src || !dst) return undefined;
  const protocol = field(text, /\bip protocol (\S+)/) ?? 'ip';
  const sport = field(text, new RegExp(`\\b${protocol} sport (\\d+)`));
  const dport = field(text, new RegExp(`\\b${protocol} dport (\\d+)`));
  const iif = field(text, /\biif "([^"]+)"/);
  return {
    ...(iif ? { iif } : {}), protocol, src, dst,
    ...(sport ? { sport: Number(sport) } : {}), ...(dport ? { dport: Number(dport) } : {}),
  };
}

/**
 * Puts the lines of `nft monitor trace` together per traced packet (trace id) and hands back each
 * connection when its packet has been through mwan's NAT (or left postrouting without one). Only
 * `inet mwan` lines are read; other tables' lines are left out. Pure: time comes in as `now`.
 */
export class TraceAssembler {
  private readonly open = new Map<string, Partial>();

  constructor(private readonly giveUpMs = 1000) {}

  /** One line; returns the connections it completed. */
  feed(line: string, now: number): TracedConnection[] {
    const match = PREFIX.exec(line.trim());
    if (!match) return this.expire(now);
    const [, id, family, table, chain, rest] = match;
    if (family !== NFT_FAMILY || table !== NFT_TABLE) return this.expire(now);
    let entry = this.open.get(id);
    if (!entry) {
      // A trace starts with its packet line in the chain where nftrace was set.
      if (!rest.startsWith('packet: ') || (chain !== 'prerouting' && chain !== 'output')) return this.expire(now);
      const packet = packetOf(rest);
      if (!packet) return this.expire(now);
      entry = { conn: { id, hook: chain, ...packet, complete: false }, last: now };
      this.open.set(id, entry);
      return this.expire(now);
    }
    entry.last = now;
    const conn = entry.conn;
    const done: TracedConnection[] = [];
    if (rest.startsWith('packet: ')) {
      const oif = field(rest, /\boif "([^"]+)"/);
      if (chain === 'postrouting' && oif) conn.oif = oif;
    } else if (rest.startsWith('rule ')) {
      const ruleMatch = /^rule (.*) \(verdict ([^)]*)\)$/.exec(rest);
      if (ruleMatch) {
        const [, text, verdict] = ruleMatch;
        const target = /^(?:goto|jump) (\S+)$/.exec(verdict)?.[1];
        if (target && SELECTING_CHAIN.test(target) && !SELECTING_CHAIN.test(chain)) {
          conn.rule = { chain, text, verdict };
          if (target !== 'balance') conn.linkChain = target;
        } else if (target && SELECTING_CHAIN.test(target) && target !== 'balance') {
          conn.linkChain = target;
        } else if (!conn.rule && /comment "mwan: (strategy|restore|a connection that met a reload|inbound)/.test(text)) {
          conn.rule = { chain, text, verdict };
        }
        if (chain.startsWith('snat_') || /\b(snat|masquerade)\b/.test(text)) {
          const address = field(text, /\bsnat ip to (\d+\.\d+\.\d+\.\d+)/);
          conn.nat = { chain, text, ...(address ? { address } : {}) };
          if (verdict === 'accept') {
            conn.complete = true;
            done.push(conn);
            this.open.delete(id);
          }
        }
      }
    } else if (rest.startsWith('policy ') || rest.startsWith('verdict ')) {
      const mark = field(rest, /\bmeta mark (0x[0-9a-f]+)/);
      if ((chain === 'prerouting' || chain === 'output') && mark) conn.mark = Number(mark);
      if (chain === 'postrouting') {
        // Left postrouting without meeting a NAT rule.
        conn.complete = true;
        done.push(conn);
        this.open.delete(id);
      }
    }
    return [...done, ...this.expire(now)];
  }

  /** Traces without a line for `giveUpMs` (a packet dropped, or that never reached postrouting). */
  expire(now: number): TracedConnection[] {
    const out: TracedConnection[] = [];
    for (const [id, entry] of this.open) {
      if (now - entry.last >= this.giveUpMs) {
        out.push(entry.conn);
        this.open.delete(id);
      }
    }
    return out;
  }

  /** Everything still open (at the end). */
  drain(): TracedConnection[] {
    const out = [...this.open.values()].map((e) => e.conn);
    this.open.clear();
    return out;
  }
}

/** The same connection (SYN retransmits, unreplied UDP are "new" again) traced twice. */
export const connectionKey = (c: Pick<TracedConnection, 'protocol' | 'src' | 'dst' | 'sport' | 'dport'>) => `${c.protocol} ${c.src}:${c.sport ?? ''} ${c.dst}:${c.dport ?? ''}`;

/** The reply direction's destination in `conntrack -L` output: where NAT put the connection's source. */
export function natAddressFromConntrack(text: string): string | undefined {
  const line = text.split('\n').find((l) => l.includes('src='));
  if (!line) return undefined;
  const dsts = [...line.matchAll(/\bdst=(\S+)/g)].map((m) => m[1]);
  return dsts[1];
}
