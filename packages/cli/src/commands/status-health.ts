import { readHealthFile, type HealthFile } from '@mwan/health';
import { processAlive } from '@mwan/engine';

/** What `mwan status` adds from health.json: the watch daemon's view of each link. */
export interface WatchHealth extends HealthFile {
  /** The daemon that wrote it is alive and has not stopped. */
  running: boolean;
}

export async function readWatchHealth(runDir: string): Promise<WatchHealth | null> {
  const file = await readHealthFile(runDir);
  if (!file) return null;
  return { ...file, running: file.stopped === undefined && processAlive(file.pid) };
}

/** A second table under the status table: state, since, RTT and loss per link. */
export function describeHealth(health: WatchHealth | null): string {
  if (!health) return '';
  const daemon = health.running ? `mwan watch (pid ${health.pid}) running` : `mwan watch not running${health.stopped ? ` (stopped ${health.stopped})` : ` (pid ${health.pid} is gone)`}; last known`;
  const head = `health: ${daemon}, updated ${health.updated}; new connections use ${health.active.join(', ') || 'no link'}`;
  const rows = [['LINK', 'TIER', 'STATE', 'SINCE', 'RTT', 'LOSS', 'PROBES', 'LAST ERROR'],
    ...health.links.map((l) => [
      l.name, String(l.priority), l.checked ? l.state : 'up (unchecked)', l.since,
      l.rttMs === null ? '-' : `${l.rttMs} ms`, l.lossPercent === null ? '-' : `${l.lossPercent}%`, String(l.probes), l.lastError ?? '',
    ])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
  const notes = [
    ...(health.allDown ? [`all links down: keeping ${health.active.join(', ')} in use`] : []),
    ...(health.paused ? ['mwan down ran through the daemon: it applies and repairs nothing until the next apply or SIGHUP'] : []),
  ];
  const last = health.repairs?.last;
  const repairs = health.repairs ? `repairs: ${health.repairs.count}${last ? ` (last ${last.at}, ${last.reason}: ${last.what})` : ''}\n` : '';
  return `${head}\n${table}\n${repairs}${notes.map((n) => `note: ${n}\n`).join('')}`;
}
