import { isIPv4 } from 'node:net';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { execa } from 'execa';
import { errorMessage, NFT_FAMILY, NFT_TABLE, runtimeError } from '@mwan/core';
import { RUNNER, type Runner } from '@mwan/iproute2';
import { globalOptions, type CliContext } from '../context.js';
import { readState } from '@mwan/engine';
import { formatTrace, toReport, type TraceLink } from '../trace/trace-format.js';
import { connectionKey, natAddressFromConntrack, TraceAssembler, type TracedConnection } from '../trace/trace-parser.js';
import { handleFromEcho, traceRule, type TraceFilter } from '../trace/trace-rule.js';

const ALL_BITS = 0xffffffff;
/** `nft monitor trace` subscribes after it starts; rules go in after this, so no trace is missed. */
const MONITOR_START_MS = 300;

const ipv4Option = (value: string) => {
  if (!isIPv4(value)) throw new InvalidArgumentError(`"${value}" is not an IPv4 address`);
  return value;
};
const integerOption = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
  return n;
};

interface TraceOptions extends TraceFilter {
  count?: number;
}

export function traceCommand(ctx: CliContext): Command {
  return new Command('trace')
    .summary('follow new connections through the ruleset: rule, link, mark, interface, NAT address')
    .description(
      'Adds a rule at the top of the prerouting (and output) chain of table inet mwan that sets nftrace on new '
      + 'connections matching the filters, follows them with `nft monitor trace`, and prints per connection: source '
      + 'and destination, protocol and port, the rule that chose its link, the link and mark, the interface it left '
      + 'by and its NAT address (from conntrack). Ends after --count connections, or on Ctrl-C/SIGTERM, and deletes '
      + 'its rules by handle; after a SIGKILL the next apply, which replaces the whole table, removes them. See docs/cli.md.',
    )
    .addOption(new Option('--from <addr>', 'only connections from this IPv4 address').argParser(ipv4Option))
    .addOption(new Option('--to <addr>', 'only connections to this IPv4 address').argParser(ipv4Option))
    .addOption(new Option('--port <n>', 'only connections to this destination port (TCP, UDP, SCTP, DCCP)').argParser(integerOption(1, 65535)))
    .addOption(new Option('--count <n>', 'stop after this many connections').argParser(integerOption(1, 1_000_000)))
    .action(async (options: TraceOptions, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      await trace(ctx, globals.runDir, globals.json, options);
    });
}

async function trace(ctx: CliContext, runDir: string, json: boolean, options: TraceOptions): Promise<void> {
  const runner = ctx.container.resolve<Runner>(RUNNER);
  const state = await readState(runDir);
  const links: TraceLink[] = state?.links.map((l) => ({ name: l.name, mark: l.mark })) ?? [];
  const mask = (state as { markMask?: number } | null)?.markMask ?? ALL_BITS;
  const chains = ['prerouting'];
  const output = await runner.run('nft', ['list', 'chain', NFT_FAMILY, NFT_TABLE, 'output'], { reject: false });
  if (output.exitCode === 0) chains.push('output');

  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onSignal = () => stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // setpriv (util-linux) makes the kernel kill the monitor when this process dies, even by SIGKILL.
  const monitor = execa('setpriv', ['--pdeathsig', 'KILL', 'nft', 'monitor', 'trace'], { buffer: false, reject: false, stdin: 'ignore' });
  const monitorEnded = monitor.then((result) => result);
  void monitorEnded.then(() => stop());
  const added: { chain: string; handle: number }[] = [];
  const assembler = new TraceAssembler();
  const seen = new Set<string>();
  let printed = 0;
  let printing = Promise.resolve();

  const report = (conn: TracedConnection) => {
    const key = connectionKey(conn);
    if (seen.has(key) || (options.count !== undefined && printed >= options.count)) return;
    seen.add(key);
    printed++;
    const last = options.count !== undefined && printed >= options.count;
    printing = printing.then(async () => {
      const nat = conn.complete ? await natAddress(runner, conn) : undefined;
      const traced = toReport(conn, links, mask, nat);
      ctx.io.out(json ? `${JSON.stringify(traced)}\n` : formatTrace(traced));
      if (last) stop();
    });
  };
  // Ages are measured on the monotonic clock: a wall-clock step would give up on every
  // connection at once, or on none.
  createInterface({ input: monitor.stdout }).on('line', (line) => {
    for (const conn of assembler.feed(line, performance.now())) report(conn);
  });
  const expiry = setInterval(() => {
    for (const conn of assembler.expire(performance.now())) report(conn);
  }, 250);

  try {
    await Promise.race([new Promise((resolve) => setTimeout(resolve, MONITOR_START_MS)), stopped]);
    if (monitor.exitCode !== null) throw runtimeError(`nft monitor trace exited (${monitor.exitCode}): ${(await monitorEnded).stderr}`);
    for (const chain of chains) {
      const result = await runner.run('nft', ['--echo', '--handle', 'insert', 'rule', NFT_FAMILY, NFT_TABLE, chain, ...traceRule(options, process.pid)], { reject: false });
      if (result.exitCode !== 0) {
        if (/No such file or directory/.test(result.stderr)) throw runtimeError(`table ${NFT_FAMILY} ${NFT_TABLE} is not loaded (run mwan apply first)`);
        throw runtimeError(`cannot add the trace rule to chain ${chain}: ${result.stderr.trim()}`);
      }
      const handle = handleFromEcho(result.stdout);
      if (handle === undefined) throw runtimeError(`nft did not say the handle of the trace rule it added to chain ${chain}`);
      added.push({ chain, handle });
    }
    const filters = [options.from && `from ${options.from}`, options.to && `to ${options.to}`, options.port && `port ${options.port}`].filter(Boolean).join(', ');
    ctx.io.err(`mwan: tracing new connections${filters ? ` (${filters})` : ''} through table ${NFT_FAMILY} ${NFT_TABLE}, chain${chains.length > 1 ? 's' : ''} ${chains.join(', ')}${options.count ? `, until ${options.count}` : ''}; Ctrl-C to stop\n`);
    await stopped;
  } finally {
    clearInterval(expiry);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const problems: string[] = [];
    for (const { chain, handle } of added) {
      const result = await runner.run('nft', ['delete', 'rule', NFT_FAMILY, NFT_TABLE, chain, 'handle', String(handle)], { reject: false });
      // A table swapped meanwhile took the rule with it.
      if (result.exitCode !== 0 && !/No such file or directory/.test(result.stderr)) problems.push(`chain ${chain} handle ${handle}: ${result.stderr.trim()}`);
    }
    monitor.kill('SIGTERM');
    await monitorEnded;
    await printing.catch((error: unknown) => problems.push(errorMessage(error)));
    if (problems.length) ctx.io.err(`mwan: could not delete every trace rule (the next apply removes them): ${problems.join('; ')}\n`);
  }
}

/** Where NAT put the connection's source, from its conntrack entry (the reply's destination). */
async function natAddress(runner: Runner, conn: TracedConnection): Promise<string | undefined> {
  const args = ['-L', '-p', conn.protocol, '--orig-src', conn.src, '--orig-dst', conn.dst,
    ...(conn.sport !== undefined ? ['--orig-port-src', String(conn.sport)] : []), ...(conn.dport !== undefined ? ['--orig-port-dst', String(conn.dport)] : [])];
  // The entry is confirmed when the packet leaves; a moment later at most.
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await runner.run('conntrack', args, { reject: false });
    const address = result.exitCode === 0 ? natAddressFromConntrack(result.stdout) : undefined;
    if (address) return address;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return undefined;
}
