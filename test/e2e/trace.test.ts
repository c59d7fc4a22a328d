// `mwan trace` with real connections: it runs in the lab's router namespace, the LAN host opens
// TCP connections to the lab's server, and each traced connection must match what the server saw
// (the link's address) and what conntrack holds. Its temporary rules must be gone afterwards:
// by itself after --count or SIGINT, by the next apply after a SIGKILL.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { findMwanCli, type Lab, type TrafficServer } from '@mwan/lab';
import type { TraceReport as Traced } from '@mwan/cli';
import { createLab, leftovers, pollUntil } from './helpers.js';

jest.setTimeout(90_000);

const PREFIX = 'mwe2etrace';


const running = new Set<Trace>();

class Trace {
  readonly lines: string[] = [];
  stderr = '';
  readonly child: ResultPromise<{ buffer: false; reject: false; stdin: 'ignore' }>;

  constructor(lab: Lab, args: readonly string[]) {
    this.child = execa('ip', ['netns', 'exec', lab.ns.router, process.execPath, findMwanCli(), '--run-dir', lab.runDir, 'trace', ...args], { buffer: false, reject: false, stdin: 'ignore' });
    running.add(this);
    void this.child.finally(() => running.delete(this));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.lines.push(line));
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  async started(): Promise<void> {
    await pollUntil(async () => {
      if (this.child.exitCode !== null) throw new Error(`mwan trace exited ${this.child.exitCode}: ${this.stderr}`);
      return this.stderr.includes('tracing new connections') ? true : undefined;
    }, 'mwan trace starting', 10_000);
  }

  async exit(): Promise<number | undefined> {
    return (await this.child).exitCode;
  }
}

describe('mwan trace', () => {
  let lab: Lab;
  let server: TrafficServer;
  let config: string;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2 });
    server = await lab.startServer({ quiet: true });
    config = await lab.configFor({ strategy: 'round-robin' });
    await lab.mwanOk(['apply', '--config', config]);
  }, 60_000);

  afterEach(async () => {
    for (const trace of running) trace.child.kill('SIGKILL');
    await Promise.allSettled([...running].map((t) => t.child));
  });

  afterAll(async () => {
    server?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  /** The base chains it adds a rule to: prerouting, and output when the ruleset has one. */
  const chains = async () => ((await lab.exec('router', 'nft', ['list', 'chain', 'inet', 'mwan', 'output'], { reject: false })).exitCode === 0 ? 2 : 1);
  const traceRules = async () => (await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'])).stdout.split('\n').filter((l) => l.includes('mwan: trace'));
  /** Processes left in the router namespace that are `nft monitor trace`. */
  async function monitors(): Promise<number[]> {
    const { stdout } = await execa('ip', ['netns', 'pids', lab.ns.router]);
    const found: number[] = [];
    for (const pid of stdout.split('\n').filter(Boolean).map(Number)) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.split('\0').slice(0, 3).join(' ').endsWith('nft monitor trace') || cmdline.startsWith('nft\0monitor\0trace')) found.push(pid);
    }
    return found;
  }

  it('prints each new connection that matches: endpoints, rule, link, mark, interface and NAT address, and ends after --count', async () => {
    const trace = new Trace(lab, ['--to', lab.serverAddress, '--port', '7000', '--count', '4', '--json']);
    await trace.started();
    expect(await traceRules()).toHaveLength(await chains());
    // Not matching the port filter: traced by nobody.
    await lab.connect({ count: 2, port: 7003, timeoutMs: 500 });
    const results = await lab.connect({ count: 4 });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await trace.exit()).toBe(0);
    const traced = trace.lines.map((l) => JSON.parse(l) as Traced);
    expect(traced).toHaveLength(4);
    const marks = { isp1: 1, isp2: 2 } as Record<string, number>;
    for (const result of results) {
      const t = traced.find((x) => x.sport === result.local?.port);
      const link = lab.linkBySnatAddress(result.seen!.src)!;
      expect(t).toEqual({
        protocol: 'tcp', from: lab.lanAddress, to: lab.serverAddress, sport: result.local!.port, dport: 7000, hook: 'prerouting', iif: 'eth0',
        chain: 'lan', rule: expect.stringContaining('comment "mwan: strategy round-robin"') as unknown as string,
        link: link.name, mark: marks[link.name], interface: link.routerInterface, nat: result.seen!.src, complete: true,
      });
    }
    expect(new Set(traced.map((t) => t.link))).toEqual(new Set(['isp1', 'isp2']));
    expect(await traceRules()).toEqual([]);
    expect(await monitors()).toEqual([]);
  });

  it('prints two lines per connection without --json and removes its rule on SIGINT', async () => {
    const trace = new Trace(lab, ['--from', lab.lanAddress]);
    await trace.started();
    const [result] = await lab.connect({ count: 1 });
    await pollUntil(async () => (trace.lines.length >= 2 ? true : undefined), 'a traced connection', 5000);
    trace.child.kill('SIGINT');
    expect(await trace.exit()).toBe(0);
    const link = lab.linkBySnatAddress(result.seen!.src)!;
    expect(trace.lines[0]).toBe(`${lab.lanAddress}:${result.local!.port} → ${lab.serverAddress}:7000 tcp  link ${link.name} (mark 0x${link.index})  out ${link.routerInterface}  nat ${result.seen!.src}`);
    expect(trace.lines[1]).toMatch(/^ {2}rule \(lan\): numgen inc mod 2 vmap \{.*\} comment "mwan: strategy round-robin"$/);
    expect(await traceRules()).toEqual([]);
  });

  it('after a SIGKILL its rule stays until the next apply replaces the table, and its monitor dies with it', async () => {
    const trace = new Trace(lab, []);
    await trace.started();
    expect(await monitors()).toHaveLength(1);
    trace.child.kill('SIGKILL');
    await trace.exit();
    expect(await traceRules()).toHaveLength(await chains());
    await pollUntil(async () => ((await monitors()).length === 0 ? true : undefined), 'nft monitor trace ending with its parent', 3000);
    const applied = await lab.mwanOk(['apply', '--config', config]);
    expect(applied.stdout).toContain('table inet mwan loaded');
    expect(await traceRules()).toEqual([]);
    // And connections go on as before.
    expect((await lab.connect({ count: 2 })).every((r) => r.ok)).toBe(true);
  });

  it('refuses bad filters with exit 2 naming the option', async () => {
    for (const [args, pattern] of [[['--from', '10.0.0'], /--from.*"10\.0\.0" is not an IPv4 address/], [['--port', '0'], /--port.*from 1 to 65535/], [['--count', 'x'], /--count/]] as const) {
      const result = await lab.mwan(['trace', ...args]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr.split('\n')[0]).toMatch(pattern);
    }
  });
});
