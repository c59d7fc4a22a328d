import { join } from 'node:path';
import { configFor, Lab, LAN6_PREFIX } from '@mwan/lab';
import type { BenchContext } from '../context.js';
import { fmt, pairedCell, ratio, spread, table } from '../markdown.js';
import { Nginx, SMALL_FILE } from '../nginx.js';
import { applyPlain, removePlain } from '../plain.js';
import { bothWays, type Section, type Target } from '../report.js';
import { roundOrder } from '../schedule.js';
import type { RouterSetup } from '../setups.js';
import { median, pairedRatios } from '../stats.js';
import { runWrk, wrkArgs } from '../wrk.js';

const TITLE = 'IPv6: new-connection rate';
const TARGET = 0.97;
const WRK_CONNECTIONS = 8;

type Mode = 'concurrent' | 'sequential';

/** IPv6 forwarding without balancing: one IPv6 masquerade rule for link 1 in the bench's own table (the IPv4 `plain`, for IPv6). */
const plain6: RouterSetup = {
  label: 'plain IPv6',
  up: (lab) => applyPlain(lab, 'ip6'),
  down: (lab) => removePlain(lab, 'ip6'),
};

/** mwan round-robin over both links, dual stack, every link's IPv6 masqueraded or translated by NPTv6. */
function mwan6(label: string, snat: 'masquerade' | 'nptv6'): RouterSetup {
  return {
    label,
    async up(lab) {
      const base = configFor(lab.links, { strategy: 'round-robin', snat: 'address' });
      const config = {
        ...base,
        lan6: LAN6_PREFIX,
        links: base.links.map((link, i) => ({
          ...link,
          ipv6: { gateway: lab.links[i].gateway6, ...(snat === 'nptv6' ? { snat: lab.links[i].nptPrefix6 } : {}) },
        })),
      };
      await lab.mwanOk(['apply', '--config', await lab.writeConfig(config, `mwan-ipv6-${snat}.json`)]);
    },
    async down(lab) {
      await lab.mwanOk(['down']);
    },
  };
}

export const IPV6_SETUPS: RouterSetup[] = [plain6, mwan6('mwan IPv6 masquerade', 'masquerade'), mwan6('mwan IPv6 NPTv6', 'nptv6')];

interface Rig {
  setup: RouterSetup;
  lab: Lab;
  nginx: Nginx;
}

/**
 * New IPv6 connections per second, LAN → server, through plain IPv6 forwarding and through mwan
 * balancing IPv6 over two links: one dual-stack lab per setup, all alive at once; concurrent and
 * sequential rounds, paired ratios (as the data-plane benchmark does for IPv4).
 */
export async function ipv6(ctx: BenchContext): Promise<Section> {
  const seconds = ctx.quick ? 1 : 2;
  const rounds: Record<Mode, number> = { concurrent: ctx.quick ? ctx.rounds : ctx.rounds * 3, sequential: ctx.quick ? 0 : ctx.rounds };
  const samples: Record<Mode, Map<string, { connPerSecond: number[]; errors: number[] }>> = {
    concurrent: new Map(IPV6_SETUPS.map((s) => [s.label, { connPerSecond: [], errors: [] }])),
    sequential: new Map(IPV6_SETUPS.map((s) => [s.label, { connPerSecond: [], errors: [] }])),
  };
  const rigs: Rig[] = [];
  let command: string;
  try {
    for (const setup of IPV6_SETUPS) {
      const lab = await Lab.create({ links: 2, rpFilter: 0, ipv6: true, prefix: ctx.labPrefix, log: ctx.log });
      const rig = { setup, lab } as Rig;
      rigs.push(rig);
      rig.nginx = await Nginx.start(lab, { dir: join(lab.dir, 'nginx'), address: lab.serverAddress6 });
      await setup.up(lab);
    }
    const options = (rig: Rig) => ({ url: rig.nginx.url(SMALL_FILE), seconds, connections: WRK_CONNECTIONS });
    command = `ip netns exec <lan> wrk ${wrkArgs(options(rigs[0])).map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
    const wrk = async (mode: Mode, rig: Rig) => {
      const result = await runWrk(rig.lab, options(rig));
      const s = samples[mode].get(rig.setup.label)!;
      s.connPerSecond.push(result.perSecond);
      s.errors.push(result.errors);
    };
    const flush = () => Promise.all(rigs.map((r) => r.lab.flushConntrack()));
    for (let round = 0; round < rounds.concurrent; round++) {
      await flush();
      await Promise.all(roundOrder(rigs, round).map((rig) => wrk('concurrent', rig)));
      ctx.log(`ipv6, concurrent round ${round + 1}/${rounds.concurrent}: ${last(samples.concurrent)}`);
    }
    for (let round = 0; round < rounds.sequential; round++) {
      await flush();
      for (const rig of roundOrder(rigs, round)) await wrk('sequential', rig);
      ctx.log(`ipv6, sequential round ${round + 1}/${rounds.sequential}: ${last(samples.sequential)}`);
    }
  } finally {
    for (const rig of rigs) {
      rig.nginx?.stop();
      await rig.lab.destroy();
    }
  }

  const modes = (['concurrent', 'sequential'] as const).filter((m) => rounds[m] > 0);
  const numbers: Record<string, number> = {};
  const targets: Target[] = [];
  const vsPlain = (mode: Mode, label: string) => median(pairedRatios(samples[mode].get(label)!.connPerSecond, samples[mode].get(plain6.label)!.connPerSecond));
  for (const setup of IPV6_SETUPS) {
    for (const mode of modes) numbers[`${mode} ${setup.label} conn/s`] = median(samples[mode].get(setup.label)!.connPerSecond);
    if (setup === plain6) continue;
    const concurrent = vsPlain('concurrent', setup.label);
    const sequential = rounds.sequential ? vsPlain('sequential', setup.label) : undefined;
    targets.push({
      what: `IPv6, ${setup.label}: new connections vs plain IPv6 forwarding`,
      goal: `≥ ${TARGET}×`,
      measured: `${ratio(concurrent)} concurrent${sequential !== undefined ? `, ${ratio(sequential)} sequential` : ''}`,
      met: bothWays(concurrent, sequential, (r) => r >= TARGET),
    });
  }
  const rows = (mode: Mode) => [...samples[mode]].map(([label, s]) => [
    label, spread(s.connPerSecond), pairedCell(s.connPerSecond, samples[mode].get(plain6.label)!.connPerSecond), String(s.errors.reduce((a, b) => a + b, 0)),
  ]);
  const headers = ['setup', 'new IPv6 conn/s, median (min–max)', 'vs plain IPv6 [IQR]', 'wrk errors'];
  return {
    title: TITLE,
    measures:
      `One dual-stack lab with 2 unshaped veth links per setup, all alive at once. Per setup: wrk for ${seconds} s with ` +
      `${WRK_CONNECTIONS} connections, every request on a new IPv6 connection (\`Connection: close\`), from the LAN's ULA ` +
      `address to nginx on the server's 2001:db8:16:1::100. \`plain IPv6\` forwards over link 1 with one IPv6 masquerade rule in the ` +
      'bench\'s own table; mwan balances round-robin over both links, each masquerading its IPv6 or translating the LAN prefix ' +
      `into its own with NPTv6. Concurrent (${rounds.concurrent} rounds) and sequential (${rounds.sequential} rounds) as in the ` +
      'data-plane benchmark; ratios are medians of per-round paired ratios.',
    commands: [command, 'mwan: ip netns exec <router> mwan apply --config <dual-stack config>'],
    body: [
      '**Concurrent** (all setups at once):',
      table(headers, rows('concurrent')),
      ...(rounds.sequential ? ['**Sequential** (one setup at a time, rotated):', table(headers, rows('sequential'))] : []),
    ],
    targets,
    plots: [],
    numbers,
    raw: { concurrent: Object.fromEntries(samples.concurrent), sequential: Object.fromEntries(samples.sequential) },
  };
}

const last = (samples: Map<string, { connPerSecond: number[] }>): string =>
  [...samples].map(([label, s]) => `${label} ${fmt(s.connPerSecond.at(-1)!)} conn/s`).join('; ');
