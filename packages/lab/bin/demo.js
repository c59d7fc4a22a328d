#!/usr/bin/env node
// npm run demo [-- --strategy NAME] [-- --links N]: a throw-away lab, the real `mwan apply`,
// real connections, and how they were split over the links. Needs root; removes everything it
// made, also on Ctrl-C or an error.
import { parseArgs } from 'node:util';
import { Lab, sweepStaleLabs } from '../dist/index.js';

const PREFIX = 'mwandemo';
const say = (text) => process.stdout.write(`${text}\n`);
const step = (text) => say(`\n==> ${text}`);

function options() {
  const { values } = parseArgs({
    options: {
      strategy: { type: 'string', default: 'weighted' },
      links: { type: 'string', default: '2' },
      weights: { type: 'string' },
      tcp: { type: 'string', default: '200' },
      udp: { type: 'string', default: '100' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    say('usage: npm run demo -- [--strategy NAME] [--links N] [--weights 1:3] [--tcp 200] [--udp 100]');
    say('  weights default to 1:3 repeated over the links (1, 3, 1, 3, ...)');
    process.exit(0);
  }
  const links = Number(values.links);
  if (!Number.isInteger(links) || links < 1 || links > 64) throw new UsageError('--links must be a whole number from 1 to 64');
  const weights = values.weights
    ? values.weights.split(/[:,]/).map(Number)
    : Array.from({ length: links }, (_, i) => (i % 2 === 0 ? 1 : 3));
  if (weights.length !== links || weights.some((w) => !Number.isInteger(w) || w < 1 || w > 1000)) {
    throw new UsageError(`--weights needs ${links} whole numbers from 1 to 1000, like 1:3`);
  }
  const tcp = Number(values.tcp);
  const udp = Number(values.udp);
  if (![tcp, udp].every((n) => Number.isInteger(n) && n >= 0 && n <= 5000)) throw new UsageError('--tcp and --udp must be whole numbers from 0 to 5000');
  return { strategy: values.strategy, links, weights, tcp, udp };
}

class UsageError extends Error {}

const pad = (rows) => {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((cell, c) => String(cell).padEnd(widths[c])).join('  ').trimEnd()).join('\n');
};

async function demo() {
  const opts = options();
  if (process.getuid?.() !== 0) {
    say('The demo builds network namespaces and loads nft tables: run it as root (sudo npm run demo).');
    return 1;
  }
  await sweepStaleLabs(PREFIX);

  step(`building a lab: LAN host, router with ${opts.links} link(s), a server playing every link's gateway`);
  const lab = await Lab.create({ prefix: PREFIX, links: opts.links, lanAddresses: 19, log: (m) => say(`    ${m}`) });
  try {
    for (const link of lab.links) say(`    ${link.name}: router ${link.routerInterface} ${link.routerAddress}/24  ->  gateway ${link.gateway} (server ${link.serverInterface})`);
    say(`    LAN host ${lab.lanAddress} (+${lab.lanAddresses.length - 1} more addresses), server ${lab.serverAddress} (behind every link)`);

    const server = await lab.startServer();
    const config = await lab.configFor({ weights: opts.weights });
    step(`mwan apply --strategy ${opts.strategy}   (in the router namespace; config ${config})`);
    say(`    weights ${opts.weights.join(':')}; ${lab.links[0].name} SNATs to its address, the others masquerade`);
    const applied = await lab.mwan(['apply', '--config', config, '--strategy', opts.strategy]);
    for (const line of `${applied.stdout}\n${applied.stderr}`.trim().split('\n')) say(`    ${line}`);
    if (applied.exitCode !== 0) {
      say(`mwan apply failed with exit code ${applied.exitCode}`);
      return applied.exitCode === 2 ? 2 : 1;
    }

    step(`sending ${opts.tcp} TCP connections and ${opts.udp} UDP flows from ${lab.lanAddresses.length} LAN addresses to ${lab.serverAddress}`);
    const tcp = await lab.connect({ proto: 'tcp', count: opts.tcp, from: lab.lanAddresses, concurrency: 16 });
    const udp = await lab.connect({ proto: 'udp', count: opts.udp, from: lab.lanAddresses, concurrency: 16 });
    const failed = [...tcp, ...udp].filter((r) => !r.ok);
    say(`    TCP ${tcp.length - tcp.filter((r) => !r.ok).length}/${tcp.length} answered, UDP ${udp.length - udp.filter((r) => !r.ok).length}/${udp.length} answered`);
    if (failed.length) say(`    failures: ${[...new Set(failed.map((r) => r.error))].join(', ')}`);

    step('how the server saw them, per link');
    const status = JSON.parse((await lab.mwanOk(['status', '--json'])).stdout);
    const counters = await lab.nftCounters();
    const records = server.records();
    const total = records.length || 1;
    const weightSum = opts.weights.reduce((a, b) => a + b, 0);
    const rows = [['LINK', 'MARK', 'SNAT ADDRESS', 'WEIGHT', 'TCP', 'UDP', 'SEEN', 'SHARE', 'NFT COUNTER']];
    lab.links.forEach((link, i) => {
      const mine = records.filter((r) => r.src === link.routerAddress);
      const mark = status.links.find((l) => l.name === link.name)?.mark;
      rows.push([
        link.name,
        mark === undefined ? '?' : `0x${mark.toString(16)}`,
        `${link.routerAddress} (${i === 0 ? 'snat' : 'masquerade'})`,
        `${opts.weights[i]} (${((100 * opts.weights[i]) / weightSum).toFixed(0)}%)`,
        mine.filter((r) => r.kind === 'tcp').length,
        mine.filter((r) => r.kind === 'udp').length,
        mine.length,
        `${((100 * mine.length) / total).toFixed(1)}%`,
        lab.counterOf(link, counters)?.packets ?? '-',
      ]);
    });
    say(pad(rows).replace(/^/gm, '    '));
    say(`    (SEEN: connections the server saw from the link's address; NFT COUNTER: new connections mwan gave the link)`);

    step('mwan down');
    const down = await lab.mwan(['down']);
    say(`    ${down.stdout.split('\n')[0]}`);
    return failed.length ? 1 : 0;
  } finally {
    step('removing the lab');
    await lab.destroy();
  }
}

demo().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    say(`demo: ${error.message}`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
