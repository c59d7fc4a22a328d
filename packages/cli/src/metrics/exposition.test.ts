import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { escapeLabel, renderExposition, type MetricsSnapshot } from './exposition.js';

const golden = (name: string) => new URL(`./testdata/${name}`, import.meta.url);

/** Compares with the golden file; MWAN_REGENERATE=1 rewrites it for review. */
function expectGolden(name: string, text: string): void {
  if (process.env.MWAN_REGENERATE === '1') writeFileSync(golden(name), text);
  expect(text).toBe(readFileSync(golden(name), 'utf8'));
}

const twoLinks: MetricsSnapshot = {
  tableLoaded: true,
  links: [
    {
      name: 'isp1', interface: 'eth1', tier: 0, newConnections: 1234,
      interfaceCounters: { rxPackets: 10, rxBytes: 1500, txPackets: 12, txBytes: 1800 },
      conntrackEntries: 7, active: true,
      health: { checked: true, up: true, stateSeconds: 61.5, rttMs: 0.41, lossPercent: 0 },
    },
    {
      name: 'lte', interface: 'wwan0', tier: 1, newConnections: 0,
      interfaceCounters: { rxPackets: 0, rxBytes: 0, txPackets: 3, txBytes: 180 },
      conntrackEntries: 0, active: false,
      health: { checked: true, up: false, stateSeconds: 2.25, rttMs: null, lossPercent: 35, lastError: 'timeout' },
    },
  ],
  daemon: { reconciles: 5, checks: 40, repairs: 1, applies: { ok: 4, failed: 1 }, lastApplySeconds: 0.085 },
};

describe('Prometheus exposition text', () => {
  it('renders every family of two links and the daemon (golden)', () => {
    expectGolden('two-links.prom', renderExposition(twoLinks));
  });

  it('leaves out what is unknown: no table, no conntrack, no health, no daemon (golden)', () => {
    expectGolden('no-watch.prom', renderExposition({
      tableLoaded: false,
      links: [{ name: 'isp1', interface: 'eth1', tier: 0, newConnections: null, interfaceCounters: null, conntrackEntries: null, active: null, health: null }],
      daemon: null,
    }));
  });

  it('escapes label values as the format says', () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it('gives each family one HELP and one TYPE line, before its samples', () => {
    const lines = renderExposition(twoLinks).trimEnd().split('\n');
    const seen = new Set<string>();
    for (const line of lines) {
      const name = /^(?:# (?:HELP|TYPE) )?(\w+)/.exec(line)![1];
      if (line.startsWith('# HELP')) {
        expect(seen.has(name)).toBe(false);
        seen.add(name);
      } else if (!line.startsWith('#')) {
        expect(seen.has(name)).toBe(true);
      }
    }
    expect(lines.filter((l) => l.startsWith('# TYPE') && l.endsWith(' counter')).every((l) => / \w+_total counter$/.test(l))).toBe(true);
  });
});
