import { join } from 'node:path';
import { execa } from 'execa';
import { configFor, findMwanCli, Lab } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { fmt, pairedCell, ratio, spread, table } from '../markdown.js';
import { Nginx, SMALL_FILE } from '../nginx.js';
import { bothWays, type Section, type Target } from '../report.js';
import { roundOrder } from '../schedule.js';
import { median, pairedRatios } from '../stats.js';
import { runWrk, wrkArgs } from '../wrk.js';

const TITLE = 'Policy rules: 1 rule vs 100';
const TARGET = 0.95;
const WRK_CONNECTIONS = 8;

type Mode = 'concurrent' | 'sequential';

/** One config per setup; wrk's connections (TCP to nginx, port 80) match none of the rules, so every lookup runs. */
interface RuleSetup {
  label: string;
  rules: (lab: Lab) => unknown[];
}

const portRule = (lab: Lab, i: number) => ({ name: `port${i}`, match: { protocol: 'tcp', port: 10000 + i }, links: [lab.links[1].name] });
const destinationRule = (i: number) => ({ name: `dest${i}`, match: { destination: `10.${100 + Math.floor(i / 200)}.${i % 200}.0/24` }, exclude: true });

export const RULE_SETUPS: RuleSetup[] = [
  { label: 'no rules', rules: () => [] },
  { label: '1 rule', rules: (lab) => [portRule(lab, 0)] },
  // Same fields, none overlapping: one lookup of 100 elements.
  { label: '100 rules, one lookup', rules: (lab) => Array.from({ length: 100 }, (_, i) => portRule(lab, i)) },
  // Port rules and destination rules alternating: each could match a connection of the next, so
  // none may move past another: 100 lookups, what a linear walk costs.
  { label: '100 rules, alternating shapes', rules: (lab) => Array.from({ length: 100 }, (_, i) => (i % 2 ? destinationRule(i) : portRule(lab, i))) },
];
const BASELINE = '1 rule';

interface Rig {
  setup: RuleSetup;
  lab: Lab;
  nginx: Nginx;
  config: string;
  lookups: number;
}

/**
 * One lab per setup, all alive at once, as in the data-plane benchmark: new connections per
 * second through mwan round-robin with no, 1 and 100 rules that the traffic does not match (the
 * cost every unmatched new connection pays), concurrent and sequential rounds, paired ratios
 * against 1 rule.
 */
export async function rulesBench(ctx: BenchContext): Promise<Section> {
  const seconds = ctx.quick ? 1 : 2;
  const rounds: Record<Mode, number> = { concurrent: ctx.quick ? ctx.rounds : ctx.rounds * 3, sequential: ctx.quick ? 0 : ctx.rounds };
  const samples: Record<Mode, Map<string, number[]>> = {
    concurrent: new Map(RULE_SETUPS.map((s) => [s.label, []])),
    sequential: new Map(RULE_SETUPS.map((s) => [s.label, []])),
  };
  const rigs: Rig[] = [];
  let commands: string[];
  try {
    for (const setup of RULE_SETUPS) {
      const lab = await Lab.create({ links: 2, rpFilter: 0, prefix: ctx.labPrefix, log: ctx.log });
      const rig = { setup, lab } as Rig;
      rigs.push(rig);
      rig.nginx = await Nginx.start(lab, { dir: join(lab.dir, 'nginx'), address: lab.serverAddress });
      rig.config = await lab.writeConfig({ ...configFor(lab.links, { strategy: 'round-robin', snat: 'address' }), rules: setup.rules(lab) }, 'rules.json');
      await lab.mwanOk(['apply', '--config', rig.config]);
      // Lookups a new connection makes before the strategy: the rule lines of the lan chain.
      const rendered = (await execa(process.execPath, [findMwanCli(), '--run-dir', lab.runDir, 'render', '--config', rig.config])).stdout;
      rig.lookups = rendered.split('\n').filter((l) => / goto rule_/.test(l) && / comment "mwan: rules? /.test(l)).length;
    }
    const wrkOptions = (rig: Rig) => ({ url: rig.nginx.url(SMALL_FILE), seconds, connections: WRK_CONNECTIONS });
    commands = [
      `ip netns exec <lan> wrk ${wrkArgs(wrkOptions(rigs[0])).map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`,
      'ip netns exec <router> mwan apply --config <lab config with 0, 1 or 100 rules>',
    ];
    const wrk = async (mode: Mode, rig: Rig) => samples[mode].get(rig.setup.label)!.push((await runWrk(rig.lab, wrkOptions(rig))).perSecond);
    const flush = () => Promise.all(rigs.map((r) => r.lab.flushConntrack()));
    for (let round = 0; round < rounds.concurrent; round++) {
      await flush();
      await Promise.all(roundOrder(rigs, round).map((rig) => wrk('concurrent', rig)));
      ctx.log(`rules, concurrent round ${round + 1}/${rounds.concurrent}: ${lastOf(samples.concurrent)}`);
    }
    for (let round = 0; round < rounds.sequential; round++) {
      await flush();
      for (const rig of roundOrder(rigs, round)) await wrk('sequential', rig);
      ctx.log(`rules, sequential round ${round + 1}/${rounds.sequential}: ${lastOf(samples.sequential)}`);
    }
  } finally {
    for (const rig of rigs) {
      rig.nginx?.stop();
      await rig.lab.destroy();
    }
  }
  return describe(samples, rounds, seconds, commands, new Map(rigs.map((r) => [r.setup.label, r.lookups])));
}

const lastOf = (samples: Map<string, number[]>): string => [...samples].map(([l, s]) => `${l} ${fmt(s.at(-1)!)} conn/s`).join('; ');

function describe(samples: Record<Mode, Map<string, number[]>>, rounds: Record<Mode, number>, seconds: number, commands: string[], lookups: ReadonlyMap<string, number>): Section {
  const modes = (['concurrent', 'sequential'] as const).filter((m) => rounds[m] > 0);
  const vs = (mode: Mode, label: string) => median(pairedRatios(samples[mode].get(label)!, samples[mode].get(BASELINE)!));
  const numbers: Record<string, number> = {};
  for (const label of samples.concurrent.keys()) for (const mode of modes) numbers[`${mode} ${label} conn/s`] = median(samples[mode].get(label)!);
  const rowsOf = (mode: Mode) => [...samples[mode]].map(([label, s]) => [label, String(lookups.get(label) ?? 'n/a'), spread(s), pairedCell(s, samples[mode].get(BASELINE)!)]);
  const targets: Target[] = ['100 rules, one lookup', '100 rules, alternating shapes'].map((label) => {
    const concurrent = vs('concurrent', label);
    const sequential = rounds.sequential ? vs('sequential', label) : undefined;
    return {
      what: `policy rules, ${label}: new connections vs 1 rule`,
      goal: label.endsWith('one lookup') ? `≥ ${TARGET}×` : 'for comparison',
      measured: `${ratio(concurrent)} concurrent${sequential !== undefined ? `, ${ratio(sequential)} sequential` : ''}`,
      met: label.endsWith('one lookup') ? bothWays(concurrent, sequential, (r) => r >= TARGET) : undefined,
    };
  });
  const headers = ['setup', 'rule lookups per new connection', 'new conn/s, median (min–max)', 'vs 1 rule [IQR]'];
  return {
    title: TITLE,
    measures:
      'One lab with 2 unshaped links per setup, all alive at once; mwan round-robin with no rules, 1 rule, 100 rules on distinct ' +
      'TCP ports (rendered as one verdict-map lookup on `meta l4proto . th dport`), and 100 rules alternating between ports and ' +
      'destination networks (no rule may move past the next, so 100 lookups: what a linear walk of the rules costs). The traffic ' +
      `matches none of them, so every lookup runs for every new connection. Per setup wrk for ${seconds} s with ${WRK_CONNECTIONS} ` +
      'connections, every request on a new connection, to nginx in the server namespace. Concurrent and sequential rounds as in the ' +
      'data-plane benchmark; ratios are medians of per-round ratios against 1 rule.',
    commands,
    body: [
      '**Concurrent** (all setups at once):',
      table(headers, rowsOf('concurrent')),
      ...(rounds.sequential ? ['**Sequential** (one setup at a time, rotated):', table(headers, rowsOf('sequential'))] : []),
    ],
    targets,
    plots: [],
    numbers,
    raw: { concurrent: Object.fromEntries(samples.concurrent), sequential: Object.fromEntries(samples.sequential), lookups: Object.fromEntries(lookups) },
  };
}
