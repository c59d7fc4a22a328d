#!/usr/bin/env node
// npm run demo [-- --strategy NAME] [-- --links N]: a throw-away lab, the real `mwan apply`,
// real connections, and how they were split over the links. Needs root; removes everything it
// made, also on Ctrl-C or an error.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { configFor, findMwanCli, Lab, sweepStaleLabs } from '../dist/index.js';

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
      failover: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    say('usage: npm run demo -- [--strategy NAME] [--links N] [--weights 1:3] [--tcp 200] [--udp 100]');
    say('  weights default to 1:3 repeated over the links (1, 3, 1, 3, ...)');
    say('       npm run demo -- --failover [--links N]   (mwan watch: link 2 black-holed, then repaired)');
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
  return { strategy: values.strategy, links, weights, tcp, udp, failover: values.failover };
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
  if (opts.failover) return failoverDemo(opts);

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

// ---- --failover: health checks and failover with `mwan watch` ------------------------------

/**
 * Starts `mwan watch` in the router, sends 10 new connections every half second and prints how
 * they split over the links, black-holes link 2 at the far end (an nft drop in the server
 * namespace) for 6 s, then repairs it. The watch log lines appear as they come.
 */
async function failoverDemo(opts) {
  const links = Math.max(2, opts.links);
  step(`building a lab with ${links} links`);
  const lab = await Lab.create({ prefix: PREFIX, links, log: (m) => say(`    ${m}`) });
  let watch;
  try {
    await lab.startServer({ quiet: true });
    await lab.exec('srv', 'nft', ['-f', '-'], {
      input: 'table inet demo_blackhole {\n\tset dead { type ifname; }\n\tchain in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\tiifname @dead drop\n\t}\n}\n',
    });
    const config = await lab.writeConfig({ ...configFor(lab.links), health: { targets: [lab.serverAddress] } });
    step(`mwan watch   (health checks: ping ${lab.serverAddress} through each link every 0.5 s, down after 3 failures, up after 3 answers)`);
    const started = Date.now();
    const at = () => `+${((Date.now() - started) / 1000).toFixed(1).padStart(4)} s`;
    watch = execa('ip', ['netns', 'exec', lab.ns.router, process.execPath, findMwanCli(), '--run-dir', lab.runDir, 'watch', '--config', config], { buffer: false, reject: false });
    let ready;
    const isReady = new Promise((resolve) => { ready = resolve; });
    createInterface({ input: watch.stdout }).on('line', (line) => {
      say(`    ${at()}  mwan watch: ${line}`);
      if (line.startsWith('watching')) ready();
    });
    createInterface({ input: watch.stderr }).on('line', (line) => say(`    ${at()}  mwan watch: ${line}`));
    await Promise.race([isReady, watch.then(() => { throw new Error('mwan watch stopped'); })]);

    step('10 new connections every 0.5 s; link 2 is black-holed at +3 s and repaired at +9 s');
    const link2 = lab.links[1];
    const events = [
      { at: 3000, say: `black-holing ${link2.name} (drop everything arriving at ${link2.serverInterface})`, dead: true },
      { at: 9000, say: `repairing ${link2.name}`, dead: false },
    ];
    while (Date.now() - started < 14000) {
      const tick = Date.now();
      while (events.length && tick - started >= events[0].at) {
        const event = events.shift();
        say(`    ${at()}  ${event.say}`);
        await lab.exec('srv', 'nft', [event.dead ? 'add' : 'delete', 'element', 'inet', 'demo_blackhole', 'dead', `{ "${link2.serverInterface}" }`]);
      }
      const results = await lab.connect({ count: 10, concurrency: 10, timeoutMs: 4000 });
      const split = lab.links.map((link) => `${link.name} ${results.filter((r) => r.ok && r.seen?.src === link.routerAddress).length}`);
      const failed = results.filter((r) => !r.ok).length;
      say(`    ${at()}  connections: ${split.join('  ')}${failed ? `  failed ${failed} (${[...new Set(results.filter((r) => !r.ok).map((r) => r.error))].join(', ')})` : ''}`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 500 - (Date.now() - tick))));
    }
    step('mwan status');
    const status = await lab.mwan(['status']);
    say(status.stdout.trimEnd().replace(/^/gm, '    '));
    return 0;
  } finally {
    if (watch) {
      watch.kill('SIGTERM');
      await watch;
    }
    await lab.mwan(['down']);
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
