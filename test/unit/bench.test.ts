// The bench's pure parts: statistics, output parsers, the SVG and markdown writers.
import { describe, expect, it } from '@jest/globals';
import type { Lab } from '@mwan/lab';
import { buildModel, groupRules, validateConfig } from '@mwan/core';
import { RULE_SETUPS } from '../../bench/src/benchmarks/rules.js';
import { daemonReloadMs } from '../../bench/src/daemon-times.js';
import { countExecs } from '../../bench/src/exec-count.js';
import { interleavedRatio, interleavedSchedule } from '../../bench/src/interleave.js';
import { parseIperf } from '../../bench/src/iperf.js';
import { fmt, table } from '../../bench/src/markdown.js';
import { plainRuleset } from '../../bench/src/plain.js';
import { bothWays } from '../../bench/src/report.js';
import { roundOrder } from '../../bench/src/schedule.js';
import { median, pairedRatios, summarize } from '../../bench/src/stats.js';
import { barChart, escapeXml, lineChart, niceTicks } from '../../bench/src/svg.js';
import { parseWrk, wrkArgs } from '../../bench/src/wrk.js';

describe('stats', () => {
  it('summarizes with medians and quartiles, ignoring NaN', () => {
    expect(summarize([5, 1, 3, NaN, 2, 4])).toEqual({ n: 5, median: 3, min: 1, max: 5, q1: 2, q3: 4 });
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(summarize([]).n).toBe(0);
  });

  it('pairs ratios by round and refuses unequal lengths', () => {
    expect(pairedRatios([2, 9], [1, 3])).toEqual([2, 3]);
    expect(() => pairedRatios([1], [1, 2])).toThrow(/as many/);
  });
});

describe('interleaved reloads', () => {
  it('puts the reloads in alternate seconds, clear of each second\'s edges, spread as evenly as the count allows', () => {
    const at = interleavedSchedule(30, 8);
    expect(at).toHaveLength(30);
    const seconds = at.map((ms) => Math.floor(ms / 1000));
    expect([...new Set(seconds)]).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect(seconds.filter((s) => s === 0)).toHaveLength(4);
    expect(seconds.filter((s) => s === 14)).toHaveLength(3);
    expect(at.every((ms) => ms % 1000 >= 50 && ms % 1000 < 750)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });

  it('compares the seconds a reload started in with those none touched, leaving out the first, the last and those only run into', () => {
    const begin = 1_000_000;
    // Reloads start in seconds 1, 3 and 5; the one in 3 runs over into 4, which counts as neither.
    const spans = [{ start: begin + 1100, end: begin + 1150 }, { start: begin + 3950, end: begin + 4020 }, { start: begin + 5000, end: begin + 5040 }];
    expect(interleavedRatio([1, 80, 100, 90, 70, 70, 100, 110, 1], begin, spans)).toEqual({ ratio: 80 / (310 / 3), reloadSeconds: 3, quietSeconds: 3 });
    // Too few seconds of a kind: no ratio.
    expect(interleavedRatio([5, 100, 100, 100, 100, 5], begin, [{ start: begin + 1000, end: begin + 1010 }])).toMatchObject({ reloadSeconds: 1, quietSeconds: 3, ratio: NaN });
  });
});

describe('bothWays', () => {
  const atLeast = (r: number) => r >= 0.95;
  it('is met or not met when both ways agree, inconclusive when they do not', () => {
    expect(bothWays(0.98, 1.01, atLeast)).toBe(true);
    expect(bothWays(0.9, 0.8, atLeast)).toBe(false);
    expect(bothWays(0.92, 0.98, atLeast)).toBe('inconclusive');
  });

  it('lets the one way measured decide', () => {
    expect(bothWays(0.96, undefined, atLeast)).toBe(true);
    expect(bothWays(0.9, NaN, atLeast)).toBe(false);
  });
});

describe('roundOrder', () => {
  it('rotates so that each setup runs first once per cycle', () => {
    const firsts = [0, 1, 2].map((r) => roundOrder(['a', 'b', 'c'], r)[0]);
    expect(firsts).toEqual(['a', 'b', 'c']);
    expect(roundOrder(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
  });
});

describe('parsers', () => {
  it('reads wrk output, errors included', () => {
    const text = `Running 5s test @ http://172.16.1.100/hello.txt
  1 threads and 8 connections
  52101 requests in 5.00s, 12.1MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 1
Requests/sec:  10418.83
Transfer/sec:      2.43MB`;
    expect(parseWrk(text)).toEqual({ requests: 52101, perSecond: 10418.83, errors: 6, seconds: 5 });
    expect(() => parseWrk('garbage')).toThrow(/wrk/);
    expect(wrkArgs({ url: 'http://x/', seconds: 5 })).toEqual(['-t', '1', '-c', '32', '-d', '5s', '-H', 'Connection: close', 'http://x/']);
  });

  it('reads iperf3 JSON and its errors', () => {
    expect(parseIperf(JSON.stringify({ end: { sum_received: { bits_per_second: 1.5e9 } } }))).toBe(1.5e9);
    expect(() => parseIperf(JSON.stringify({ error: 'unable to connect' }))).toThrow(/unable to connect/);
  });

  it("reads the daemon's own reload times from watch's log lines, from a moment on", () => {
    const lines = [
      { at: 1, text: 'SIGHUP: reloaded /tmp/x/mwan.json (2 links, strategy weighted): table swapped in 12 ms, done in 30 ms' },
      { at: 2, text: 'apply: /tmp/x/mwan.json applied for mwan apply (active links isp1, isp2; strategy weighted): table swapped in 18 ms, done in 40 ms' },
      { at: 3, text: 'applied active links isp1, isp2 in 9 ms' },
      { at: 4, text: 'SIGHUP: config not reloaded, the running one is kept: links[0].name: …' },
      { at: 5, text: 'SIGHUP: reloaded /tmp/x/mwan.json (64 links): table swapped in 85 ms, done in 120 ms' },
      { at: 6, text: 'SIGHUP: reloaded /tmp/x/mwan.json (64 links): table unchanged, done in 50 ms' },
    ];
    expect(daemonReloadMs(lines, 'sighup')).toEqual([12, 85]);
    expect(daemonReloadMs(lines, 'sighup', 2)).toEqual([85]);
    expect(daemonReloadMs(lines, 'apply')).toEqual([18]);
  });

  it('counts successful execs, also when strace splits a call over two lines', () => {
    const trace = [
      '100 execve("/usr/bin/node", ["node"], 0x1 /* 9 vars */) = 0',
      '101 execve("/usr/local/sbin/nft", ["nft"], 0x2 /* 9 vars */) = -1 ENOENT (No such file or directory)',
      '101 execve("/usr/sbin/nft", ["nft", "-c"], 0x2 /* 9 vars */) = 0',
      '102 execve("/usr/sbin/ip", ["ip"], 0x3 /* 9 vars */ <unfinished ...>',
      '101 +++ exited with 0 +++',
      '102 <... execve resumed>)            = 0',
      '103 execve("/usr/sbin/ip", ["ip"], 0x3 /* 9 vars */ <unfinished ...>',
      '103 <... execve resumed>)            = -1 ENOENT (No such file or directory)',
    ].join('\n');
    expect(countExecs(trace)).toEqual({ node: 1, nft: 1, ip: 1 });
  });
});

describe('writers', () => {
  it('formats numbers to three significant digits and tables with escaped pipes', () => {
    expect(fmt(1234.5)).toBe('1,235');
    expect(fmt(0.012345)).toBe('0.0123');
    expect(fmt(NaN)).toBe('n/a');
    expect(table(['a', 'b'], [['x|y', 1]])).toBe('| a | b |\n| --- | --- |\n| x\\|y | 1 |');
  });

  it('picks round ticks that cover the maximum', () => {
    expect(niceTicks(9.3)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.97)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('writes well-formed SVG with escaped text', () => {
    expect(escapeXml('a<b & "c"')).toBe('a&lt;b &amp; &quot;c&quot;');
    const line = lineChart({ title: 'rate <links>', xLabel: 'links', yLabel: 'x', categoricalX: true, series: [{ name: 's', points: [{ x: 2, y: 1 }, { x: 64, y: 0.9, lo: 0.8, hi: 1 }] }], reference: { y: 0.95, label: 'target' } });
    expect(line).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(line).toContain('rate &lt;links&gt;');
    expect(line).not.toContain('NaN');
    const bars = barChart({ title: 't', yLabel: 'y', bars: [{ label: 'a', value: 2, lo: 1, hi: 3 }, { label: 'b', value: 1 }] });
    expect(bars.match(/<rect /g)).toHaveLength(3);
  });

  it('renders the plain baseline as its own table, declared then deleted then defined', () => {
    const text = plainRuleset('wan1');
    expect(text.split('\n').slice(0, 3)).toEqual(['table ip bench_plain', 'delete table ip bench_plain', 'table ip bench_plain {']);
    expect(text).toContain('oifname "wan1" masquerade');
  });
});

describe('the rules benchmark\'s setups', () => {
  it('are valid configs that make 0, 1, 1 and 100 lookups', () => {
    const links = [{ name: 'isp1', interface: 'wan1' }, { name: 'isp2', interface: 'wan2' }];
    const lab = { links: links.map((l) => ({ name: l.name })) } as unknown as Lab;
    const lookups = RULE_SETUPS.map((s) => groupRules(buildModel(validateConfig({ lan: ['eth0'], links, rules: s.rules(lab) })).rules ?? []).length);
    expect(Object.fromEntries(RULE_SETUPS.map((s, i) => [s.label, lookups[i]]))).toEqual({
      'no rules': 0, '1 rule': 1, '100 rules, one lookup': 1, '100 rules, alternating shapes': 100,
    });
  });
});
