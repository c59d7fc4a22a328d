/**
 * The Prometheus text exposition format (version 0.0.4) of what mwan knows, from a plain model:
 * no I/O here, so the text is tested against goldens and `promtool check metrics`.
 */

export interface LinkHealthSample {
  /** Health checks run for this link (false: no targets, it always counts as up). */
  checked: boolean;
  up: boolean;
  /** Seconds since the link entered its current state. */
  stateSeconds: number;
  rttMs: number | null;
  lossPercent: number | null;
  /** Why the last probe failed, when it did. */
  lastError?: string;
}

export interface LinkSample {
  name: string;
  interface: string;
  tier: number;
  /** New connections given to the link, carried across table reloads; null without a table. */
  newConnections: number | null;
  /** The link interface's own counters (`ip -s -json link`), carried across interface re-creation. */
  interfaceCounters: { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number } | null;
  /** Conntrack entries carrying the link's mark; null when conntrack cannot tell. */
  conntrackEntries: number | null;
  /** Whether the ruleset gives the link new connections now; null when unknown (no watch). */
  active: boolean | null;
  health: LinkHealthSample | null;
}

export interface DaemonSample {
  reconciles: number;
  /** Comparisons of the kernel with the config (absent from a metrics.json of an older mwan). */
  checks?: number;
  repairs: number;
  applies: { ok: number; failed: number };
  /** Seconds the last apply took; null before the first. */
  lastApplySeconds: number | null;
}

/** A policy rule's nft counter: new connections it matched, carried across table reloads. */
export interface RuleSample {
  name: string;
  newConnections: number;
}

export interface MetricsSnapshot {
  /** Whether `table inet mwan` exists. */
  tableLoaded: boolean;
  links: readonly LinkSample[];
  /** The rules of the loaded table (absent or empty: none). */
  rules?: readonly RuleSample[];
  /** The `mwan watch` daemon's own counters; null when no daemon reports them. */
  daemon: DaemonSample | null;
}

type Kind = 'counter' | 'gauge';

interface Family {
  name: string;
  kind: Kind;
  help: string;
  samples: { labels: Record<string, string>; value: number }[];
}

/** Label values escape backslash, double quote and newline; HELP text escapes backslash and newline. */
export const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** Integers as integers, the rest with the shortest exact decimal JavaScript gives. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

export function renderExposition(snapshot: MetricsSnapshot): string {
  const families: Family[] = [];
  const family = (name: string, kind: Kind, help: string): Family => {
    const f: Family = { name, kind, help, samples: [] };
    families.push(f);
    return f;
  };

  family('mwan_table_loaded', 'gauge', 'Whether table inet mwan exists (1) or not (0).')
    .samples.push({ labels: {}, value: snapshot.tableLoaded ? 1 : 0 });

  const newConnections = family('mwan_link_new_connections_total', 'counter', 'New connections given to the link by the ruleset (its nft counter, carried across table reloads).');
  const rxPackets = family('mwan_link_receive_packets_total', 'counter', 'Packets received on the link interface (interface counters).');
  const txPackets = family('mwan_link_transmit_packets_total', 'counter', 'Packets sent on the link interface (interface counters).');
  const rxBytes = family('mwan_link_receive_bytes_total', 'counter', 'Bytes received on the link interface (interface counters).');
  const txBytes = family('mwan_link_transmit_bytes_total', 'counter', 'Bytes sent on the link interface (interface counters).');
  const conntrack = family('mwan_link_conntrack_entries', 'gauge', 'Conntrack entries carrying the link mark.');
  const active = family('mwan_link_active', 'gauge', 'Whether the ruleset gives the link new connections now (1) or not (0).');
  const checked = family('mwan_link_health_checked', 'gauge', 'Whether the link is health-checked (1) or always counts as up (0).');
  const up = family('mwan_link_up', 'gauge', 'Health state of the link: 1 up, 0 down.');
  const stateSeconds = family('mwan_link_state_seconds', 'gauge', 'Seconds the link has been in its current health state.');
  const rtt = family('mwan_link_probe_rtt_seconds', 'gauge', 'Round-trip time of the last answered probe.');
  const loss = family('mwan_link_probe_loss_ratio', 'gauge', 'Share of the last (up to 20) probe rounds without an answer, 0 to 1.');

  for (const link of snapshot.links) {
    const labels = { link: link.name, interface: link.interface, tier: String(link.tier) };
    const add = (f: Family, value: number | null | undefined) => {
      if (value !== null && value !== undefined) f.samples.push({ labels, value });
    };
    add(newConnections, link.newConnections);
    add(rxPackets, link.interfaceCounters?.rxPackets);
    add(txPackets, link.interfaceCounters?.txPackets);
    add(rxBytes, link.interfaceCounters?.rxBytes);
    add(txBytes, link.interfaceCounters?.txBytes);
    add(conntrack, link.conntrackEntries);
    add(active, link.active === null ? null : link.active ? 1 : 0);
    if (link.health) {
      add(checked, link.health.checked ? 1 : 0);
      add(up, link.health.up ? 1 : 0);
      add(stateSeconds, link.health.stateSeconds);
      add(rtt, link.health.rttMs === null ? null : link.health.rttMs / 1000);
      add(loss, link.health.lossPercent === null ? null : link.health.lossPercent / 100);
    }
  }

  const rules = family('mwan_rule_new_connections_total', 'counter', 'New connections a policy rule matched (its nft counter, carried across table reloads).');
  for (const rule of snapshot.rules ?? []) rules.samples.push({ labels: { rule: rule.name }, value: rule.newConnections });

  const daemon = snapshot.daemon;
  if (daemon) {
    family('mwan_watch_reconciles_total', 'counter', 'Reconciles of the active set by mwan watch (each health change, reload, retry or repair).')
      .samples.push({ labels: {}, value: daemon.reconciles });
    family('mwan_watch_checks_total', 'counter', 'Comparisons of the kernel with the config by mwan watch: on every netlink or nft event, every 10 s, and every second for the sysctls.')
      .samples.push({ labels: {}, value: daemon.checks ?? 0 });
    family('mwan_watch_repairs_total', 'counter', 'Repairs started by mwan watch, each followed by an apply: the kernel found different from the config, a ruleset replaced by another mwan command, or an interrupted apply.')
      .samples.push({ labels: {}, value: daemon.repairs });
    const applies = family('mwan_watch_applies_total', 'counter', 'Applies by mwan watch, by result.');
    applies.samples.push({ labels: { result: 'ok' }, value: daemon.applies.ok }, { labels: { result: 'failed' }, value: daemon.applies.failed });
    if (daemon.lastApplySeconds !== null) {
      family('mwan_watch_last_apply_duration_seconds', 'gauge', 'Seconds the last apply by mwan watch took.')
        .samples.push({ labels: {}, value: daemon.lastApplySeconds });
    }
  }

  const out: string[] = [];
  for (const f of families) {
    // A family without samples is left out whole: promtool and scrapers accept either, and
    // an empty family only says the metric exists somewhere.
    if (!f.samples.length) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.kind}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
      out.push(`${f.name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
