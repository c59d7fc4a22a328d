import { counterName, DEFAULT_MARK_MASK, linkCondition, MwanError, type LinkDownReason } from '@mwan/core';
import { Conntrack, IpRoute2, NftTable, routeTable } from '@mwan/iproute2';
import { loadDesired } from './desired.js';
import { readIpState } from './ip-sync.js';
import { readJournal, readState, type LinkState } from './state-file.js';

const FULL_MASK = 0xffffffff;

export interface LinkStatus extends LinkState {
  /** What its interface can do now, from the kernel: `up`, or `down` with the reason. */
  state: 'up' | 'down';
  reason?: LinkDownReason;
  detail?: string;
  /** Its IPv4 fwmark rule and default route are there. */
  rule: boolean;
  route: boolean;
  /** For a link that carries IPv6: its `ip -6` rule and route are there. */
  ipv6State?: { rule: boolean; route: boolean };
  /** Conntrack entries carrying the link's mark; null when conntrack could not tell. */
  connections: number | null;
  /** Packets of new connections given to the link since the table was loaded; null without a table. */
  packets: number | null;
}

export interface StatusReport {
  /** Whether `table inet mwan` exists. */
  applied: boolean;
  /** Where the links come from: the last apply's state file, or the config (never applied). */
  source: 'state' | 'config';
  appliedAt: string | null;
  config: string | null;
  strategy: string | null;
  /** An apply was interrupted and not repaired yet. */
  interrupted: boolean;
  /** Every link applied has its rule and route, and the table is there. */
  ok: boolean;
  links: LinkStatus[];
}

export class StatusEngine {
  constructor(
    private readonly ip: IpRoute2,
    private readonly nft: NftTable,
    private readonly conntrack: Conntrack,
  ) {}

  async status(request: { runDir: string; configPath: string }): Promise<StatusReport> {
    // One after the other: when both cannot be read, the error is always state.json's.
    const state = await readState(request.runDir);
    const journal = await readJournal(request.runDir);
    let links: LinkState[] = state?.links ?? [];
    let strategy = state?.strategy ?? null;
    // A state file from before masks: its rules compared every bit.
    let mask = state ? state.markMask ?? FULL_MASK : DEFAULT_MARK_MASK;
    if (!state) {
      // Never applied here: show what an apply would set up, when the config can be read.
      try {
        const desired = await loadDesired(request.configPath);
        links = desired.model.links.map((l) => ({
          name: l.name, interface: l.interface, mark: l.mark, table: l.table, weight: l.weight,
          ...(l.gateway !== undefined ? { gateway: l.gateway } : {}),
          ...(l.snat.kind === 'address' ? { snat: l.snat.address } : {}),
          ...(l.ipv6 ? { ipv6: { ...(l.ipv6.gateway !== undefined ? { gateway: l.ipv6.gateway } : {}) } } : {}),
        }));
        strategy = desired.model.strategy.name;
        mask = desired.model.markMask;
      } catch (error) {
        if (!(error instanceof MwanError) || error.code === 'runtime') throw error;
      }
    }
    const table = await this.nft.current();
    const counters = table === null ? {} : await this.nft.counters();
    const ipState = await readIpState(this.ip);
    const interfaces = await this.ip.interfaces();
    const statuses: LinkStatus[] = [];
    for (const link of links) {
      const condition = linkCondition({ ...link, ...(link.snat !== undefined ? { snatAddress: link.snat } : {}) }, interfaces.get(link.interface));
      const ruleOf = (family?: 'inet6') => ipState.ownedRules.some((r) => r.family === family && r.fwmark !== undefined && Number(r.fwmark) === link.mark && Number(r.fwmask ?? FULL_MASK) === mask && r.table === String(link.table));
      const routeOf = (family?: 'inet6') => ipState.ownedRoutes.some((r) => r.family === family && r.dst === 'default' && routeTable(r) === String(link.table));
      const rule = ruleOf();
      const route = routeOf();
      statuses.push({
        ...link,
        ...(condition.up ? { state: 'up' as const } : { state: 'down' as const, reason: condition.reason, detail: condition.detail }),
        rule, route,
        ...(link.ipv6 ? { ipv6State: { rule: ruleOf('inet6'), route: routeOf('inet6') } } : {}),
        connections: (await this.conntrack.countMark(link.mark, mask)) ?? null,
        packets: counters[counterName(link)]?.packets ?? null,
      });
    }
    return {
      applied: table !== null,
      source: state ? 'state' : 'config',
      appliedAt: state?.applied ?? null,
      config: state?.config ?? null,
      strategy,
      interrupted: journal !== null,
      // A link the last apply left out has no rule or route by design.
      ok: table !== null && statuses.some((s) => !s.down) && statuses.every((s) => s.down !== undefined || (s.rule && s.route && (
        s.ipv6State === undefined || s.ipv6?.down !== undefined || (s.ipv6State.rule && s.ipv6State.route)))),
      links: statuses,
    };
  }
}
