import type { MetricsSnapshot } from '../metrics/exposition.js';

/** One reading, with when it was taken. */
export interface LiveSample {
  /** Wall time (ms since the epoch), shown. */
  at: number;
  /** The monotonic clock (ms), for intervals and rates: a wall-clock step between readings changes neither. */
  monotonicMs: number;
  snapshot: MetricsSnapshot;
}

export interface LiveLink {
  name: string;
  interface: string;
  tier: number;
  /** `up`, `down`, or `unknown` without a running mwan watch. */
  state: 'up' | 'down' | 'unknown';
  /** Why, in a few words. */
  reason: string;
  /** Whether the ruleset gives it new connections (null: unknown). */
  active: boolean | null;
  /** New connections in the last interval, and the link's share of all of them (0–1; null when there were none). */
  newConnections: number | null;
  share: number | null;
  /** The same since the view started. */
  newConnectionsSinceStart: number | null;
  shareSinceStart: number | null;
  connections: number | null;
  /** Bits per second over the last interval, from the interface counters. */
  bitsInPerSecond: number | null;
  bitsOutPerSecond: number | null;
  rttMs: number | null;
  lossPercent: number | null;
}

export interface LiveFrame {
  time: string;
  intervalSeconds: number;
  sinceStartSeconds: number;
  tableLoaded: boolean;
  links: LiveLink[];
}

/** What changed between readings: shares of new connections and bit rates. Pure. */
export function liveFrame(first: LiveSample, previous: LiveSample, current: LiveSample): LiveFrame {
  const dt = (current.monotonicMs - previous.monotonicMs) / 1000;
  const find = (sample: LiveSample, name: string) => sample.snapshot.links.find((l) => l.name === name);
  const delta = (a: number | null | undefined, b: number | null | undefined) => (a === null || a === undefined || b === null || b === undefined ? null : Math.max(0, b - a));
  const rows = current.snapshot.links.map((link) => {
    const before = find(previous, link.name);
    const start = find(first, link.name);
    return {
      link,
      interval: delta(before?.newConnections, link.newConnections),
      sinceStart: delta(start?.newConnections, link.newConnections),
      rx: delta(before?.interfaceCounters?.rxBytes, link.interfaceCounters?.rxBytes),
      tx: delta(before?.interfaceCounters?.txBytes, link.interfaceCounters?.txBytes),
    };
  });
  const sum = (values: (number | null)[]) => values.reduce<number>((s, v) => s + (v ?? 0), 0);
  const intervalTotal = sum(rows.map((r) => r.interval));
  const startTotal = sum(rows.map((r) => r.sinceStart));
  const rate = (bytes: number | null) => (bytes === null || dt <= 0 ? null : (bytes * 8) / dt);
  return {
    time: new Date(current.at).toISOString(),
    intervalSeconds: dt,
    sinceStartSeconds: (current.monotonicMs - first.monotonicMs) / 1000,
    tableLoaded: current.snapshot.tableLoaded,
    links: rows.map(({ link, interval, sinceStart, rx, tx }) => {
      const health = link.health;
      const state = health ? (health.up ? 'up' : 'down') : 'unknown';
      const reason = !health ? 'no mwan watch running'
        : !health.checked ? 'not health-checked'
        : health.up ? 'probes answered'
        : `probes failing${health.lastError ? ` (${health.lastError})` : ''}`;
      return {
        name: link.name,
        interface: link.interface,
        tier: link.tier,
        state,
        reason,
        active: link.active,
        newConnections: interval,
        share: interval === null || intervalTotal === 0 ? null : interval / intervalTotal,
        newConnectionsSinceStart: sinceStart,
        shareSinceStart: sinceStart === null || startTotal === 0 ? null : sinceStart / startTotal,
        connections: link.conntrackEntries,
        bitsInPerSecond: rate(rx),
        bitsOutPerSecond: rate(tx),
        rttMs: health?.rttMs ?? null,
        lossPercent: health?.lossPercent ?? null,
      };
    }),
  };
}

/** 1234567 → `1.23 Mbit/s`. */
export function formatBitRate(bits: number | null): string {
  if (bits === null) return '-';
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let value = bits;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

const percent = (share: number | null) => (share === null ? '-' : `${Math.round(share * 100)}%`);
const count = (n: number | null) => (n === null ? '-' : String(n));

/** The view as lines: a head line, the table, and the key line when asked for (a terminal). */
export function formatLiveView(frame: LiveFrame, options: { keys?: boolean } = {}): string[] {
  const head = `mwan status --watch  ${frame.time}  every ${frame.intervalSeconds.toFixed(1)} s, ${Math.round(frame.sinceStartSeconds)} s since start${frame.tableLoaded ? '' : '  (table inet mwan not loaded)'}`;
  const rows = [
    ['LINK', 'IF', 'TIER', 'STATE', 'NEW', 'SHARE', 'SHARE-ALL', 'CONNS', 'IN', 'OUT', 'RTT', 'LOSS', 'REASON'],
    ...frame.links.map((l) => [
      l.name, l.interface, String(l.tier), `${l.state}${l.active === false ? ' (idle)' : ''}`,
      count(l.newConnections), percent(l.share), percent(l.shareSinceStart), count(l.connections),
      formatBitRate(l.bitsInPerSecond), formatBitRate(l.bitsOutPerSecond),
      l.rttMs === null ? '-' : `${l.rttMs} ms`, l.lossPercent === null ? '-' : `${l.lossPercent}%`, l.reason,
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  return [head, ...table, ...(options.keys ? ['', 'q or Ctrl-C to quit'] : [])];
}
