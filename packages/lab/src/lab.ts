import { mkdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { counterName, inIpv6Prefix, isIpv6Address, parseIpv6Prefix } from '@mwan/core';
import { track, untrack } from './cleanup.js';
import { configFor, type ConfigOptions } from './config-for.js';
import { parseConntrack, type ConntrackEntry } from './conntrack.js';
import { mwanCommand } from './mwan-cli.js';
import { labStem, namespaceName, newLabId, type LabId, type Role } from './names.js';
import { addNamespace, listNamespaces, removeNamespace, removeNamespaceSync } from './netns.js';
import { parseNftCounters, type CounterValue } from './nft-counters.js';
import { buildSteps, DMZ6_HOST, LAN2_HOST, planTopology, type BuildStep, type LabLink, type NamespaceNames, type Topology, type TopologyOptions } from './topology.js';
import { LongLivedConnection, STREAMING, toolPath, TrafficServer, type ConnectResult, type LoadReport } from './traffic.js';

export interface LabOptions extends TopologyOptions {
  /** Namespace and directory names start with it (a-z0-9, default `mwanlab`). */
  prefix?: string;
  /** Progress messages (default: none). */
  log?: (message: string) => void;
}

export interface MwanResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The command line, for messages. */
  command: string;
}

export interface ConnectOptions {
  proto?: 'tcp' | 'udp';
  count?: number;
  /** Source address(es), used in turn; default the LAN host's first address. */
  from?: string | readonly string[];
  /** Destination; default the first server address. */
  to?: string;
  port?: number;
  concurrency?: number;
  timeoutMs?: number;
  /** Namespace the client runs in; default `lan`. */
  role?: Role;
}

export interface LoadOptions {
  to?: string;
  port?: number;
  from?: string | readonly string[];
  /** Exactly one of durationMs and count. */
  durationMs?: number;
  count?: number;
  concurrency?: number;
  stallMs?: number;
  timeoutMs?: number;
  mode?: 'line' | 'http';
  path?: string;
  role?: Role;
  /** Wall-clock ms since the epoch to start at (the tool waits for it), so that others can time things against its seconds. */
  startAt?: number;
}

export interface ServerOptions {
  /**
   * Namespace: `srv` (default, all server addresses and link gateways), `lan2` (its host address),
   * `lan` (the LAN host's first address: a server behind a port forward) or `router` (every link's
   * router address: a service of the router itself).
   */
  role?: 'srv' | 'lan2' | 'lan' | 'router';
  port?: number;
  /** Do not record connections (for load). */
  quiet?: boolean;
}

const DEFAULT_PORT = 7000;
/** Source ports the client tool picks from (it wraps around in the same range). */
const PORT_FIRST = 10000;
const PORT_LAST = 64999;
/** Ports a client run may skip because they are in use. */
const PORT_SLACK = 64;

/**
 * The article's topology in network namespaces: LAN host ─ router ─ one veth per link ─ a server
 * that plays every link's gateway. Everything it creates is removed by `destroy()`, also when the
 * process exits or is signalled first.
 */
export class Lab {
  readonly id: LabId;
  /** Stem of every name this lab creates. */
  readonly stem: string;
  readonly ns: NamespaceNames;
  readonly topology: Topology;
  /** Temporary directory: configs and the router's mwan run dir. */
  readonly dir: string;
  readonly runDir: string;
  private readonly children = new Set<ResultPromise>();
  /**
   * Where the next client run takes its source ports: runs of one lab use disjoint ranges, so a
   * connection never shares a 4-tuple (and so a conntrack entry) with an earlier one.
   */
  private portCursor = PORT_FIRST + Math.floor(Math.random() * (PORT_LAST - PORT_FIRST));
  private readonly log: (message: string) => void;
  private destroying?: Promise<void>;
  /** Everything is gone (set at the end of a removal, not at its start). */
  private removed = false;

  private constructor(options: LabOptions) {
    this.topology = planTopology(options);
    this.id = newLabId(options.prefix);
    this.stem = labStem(this.id);
    this.ns = {
      lan: namespaceName(this.id, 'lan'),
      router: namespaceName(this.id, 'router'),
      srv: namespaceName(this.id, 'srv'),
      ...(this.topology.secondLan ? { lan2: namespaceName(this.id, 'lan2') } : {}),
    };
    this.dir = join(tmpdir(), this.stem);
    this.runDir = join(this.dir, 'run');
    this.log = options.log ?? (() => {});
  }

  /** Builds a lab; fails with a message saying why when not root or namespaces cannot be made. */
  static async create(options: LabOptions = {}): Promise<Lab> {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      throw new Error('the mwan lab needs root (it creates network namespaces, veth pairs and nft tables); run as root');
    }
    const lab = new Lab(options);
    track(lab);
    try {
      mkdirSync(lab.runDir, { recursive: true, mode: 0o700 });
      await lab.build();
    } catch (error) {
      await lab.destroy().catch(() => {});
      throw new Error(`cannot build the network-namespace lab (${lab.stem}): ${(error as Error).message}`, { cause: error });
    }
    return lab;
  }

  private async build(): Promise<void> {
    const namespaces = Object.values(this.ns) as string[];
    this.log(`creating namespaces ${namespaces.join(', ')}`);
    for (const name of namespaces) await addNamespace(name);
    for (const step of buildSteps(this.topology, this.ns)) await this.runStep(step);
    const more = (list: readonly string[]) => `${list[0]}${list.length > 1 ? ` (+${list.length - 1} more)` : ''}`;
    this.log(`lab ready: ${this.links.length} link(s), LAN ${more(this.lanAddresses)}, server ${more(this.serverAddresses)}`);
  }

  private async runStep(step: BuildStep): Promise<void> {
    const run = step.tool === 'sysctl'
      ? execa('ip', ['netns', 'exec', step.ns, 'sysctl', '-q', '-w', ...step.lines], { reject: false })
      : execa(step.tool, ['-n', step.ns, '-batch', '-'], { input: `${step.lines.join('\n')}\n`, reject: false });
    const result = await run;
    if (result.exitCode !== 0) {
      throw new Error(`${step.tool} in ${step.ns} failed: ${(result.stderr || result.stdout).trim()}\n${step.lines.join('\n')}`);
    }
  }

  get links(): readonly LabLink[] {
    return this.topology.links;
  }

  /** Every LAN host address, 192.168.157.3 first. */
  get lanAddresses(): readonly string[] {
    return this.topology.lanAddresses;
  }

  get lanAddress(): string {
    return this.topology.lanAddresses[0];
  }

  get serverAddresses(): readonly string[] {
    return this.topology.serverAddresses;
  }

  get serverAddress(): string {
    return this.topology.serverAddresses[0];
  }

  /** With `ipv6`: the LAN host's IPv6 addresses (fd00:157::3 first). */
  get lanAddresses6(): readonly string[] {
    return this.need6(this.topology.lanAddresses6);
  }

  get lanAddress6(): string {
    return this.lanAddresses6[0];
  }

  get serverAddress6(): string {
    return this.need6(this.topology.serverAddresses6)[0];
  }

  /** With `ipv6`: the LAN host's address in the prefix link 2's ISP routes to the router (DMZ6_PREFIX). */
  get dmzAddress6(): string {
    this.need6([]);
    return DMZ6_HOST;
  }

  private need6<T>(value: T): T {
    if (!this.topology.ipv6) throw new Error('this lab has no IPv6 (create it with ipv6: true)');
    return value;
  }

  /** The second LAN's host address (only with `secondLan`). */
  get lan2Address(): string {
    if (!this.ns.lan2) throw new Error('this lab has no second LAN (create it with secondLan: true)');
    return LAN2_HOST;
  }

  /** The link whose SNAT/masquerade address this is (what the server sees as source). */
  linkBySnatAddress(address: string): LabLink | undefined {
    return this.links.find((l) => l.routerAddress === address || l.routerAddress6 === address || (l.nptPrefix6 !== undefined && isIpv6Address(address) && inIpv6Prefix(address, parseIpv6Prefix(l.nptPrefix6)!)));
  }

  private nsOf(role: Role): string {
    const ns = this.ns[role];
    if (!ns) throw new Error(`this lab has no ${role} namespace`);
    return ns;
  }

  /** Runs a command in one of the lab's namespaces. */
  async exec(role: Role, cmd: string, args: readonly string[], options: { input?: string; reject?: boolean } = {}) {
    return execa('ip', ['netns', 'exec', this.nsOf(role), cmd, ...args], {
      reject: options.reject ?? true,
      ...(options.input !== undefined ? { input: options.input } : {}),
    });
  }

  /** Writes a config for this topology into the lab's directory and returns its path. */
  async configFor(options: ConfigOptions = {}, fileName = 'mwan.json'): Promise<string> {
    return this.writeConfig(configFor(this.links, options), fileName);
  }

  /** Writes any JSON (or text, as is) as a config file of the lab; returns its path. */
  async writeConfig(config: unknown, fileName = 'mwan.json'): Promise<string> {
    const path = join(this.dir, fileName);
    await writeFile(path, typeof config === 'string' ? config : `${JSON.stringify(config, null, 2)}\n`);
    return path;
  }

  /** Runs the real `mwan` in the router namespace with the lab's own run dir (the native front when built: see mwanCommand). Never throws on exit codes. */
  async mwan(args: readonly string[]): Promise<MwanResult> {
    const result = await execa('ip', ['netns', 'exec', this.ns.router, ...mwanCommand(), '--run-dir', this.runDir, ...args], {
      reject: false,
      env: { MWAN_RUN_DIR: this.runDir },
      timeout: 60_000,
    });
    return {
      exitCode: result.exitCode ?? -1,
      stdout: result.stdout,
      stderr: result.stderr,
      command: `mwan ${['--run-dir', this.runDir, ...args].join(' ')}`,
    };
  }

  /** `mwan(args)` that throws, with the output, unless the exit code is `expected` (0). */
  async mwanOk(args: readonly string[], expected = 0): Promise<MwanResult> {
    const result = await this.mwan(args);
    if (result.exitCode !== expected) {
      throw new Error(`${result.command}: exit ${result.exitCode}, expected ${expected}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return result;
  }

  private spawnTool(role: Role, tool: Parameters<typeof toolPath>[0], args: readonly string[]) {
    const child = execa('ip', ['netns', 'exec', this.nsOf(role), process.execPath, toolPath(tool), ...args], STREAMING);
    this.children.add(child);
    void child.finally(() => this.children.delete(child));
    return child;
  }

  private async runTool<T>(role: Role, tool: 'client' | 'load', args: readonly string[]): Promise<T> {
    const result = await execa('ip', ['netns', 'exec', this.nsOf(role), process.execPath, toolPath(tool), ...args], { reject: false });
    if (result.exitCode !== 0) throw new Error(`${tool}.js in ${role} failed (exit ${result.exitCode}): ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  /** Starts the traffic server and waits until it listens. */
  async startServer(options: ServerOptions = {}): Promise<TrafficServer> {
    const role = options.role ?? 'srv';
    const addresses = role === 'lan2' ? [this.lan2Address]
      : role === 'lan' ? [this.lanAddress]
        : role === 'router' ? this.links.map((l) => l.routerAddress)
          : [...this.serverAddresses, ...this.links.map((l) => l.gateway), ...this.topology.serverAddresses6];
    const port = options.port ?? DEFAULT_PORT;
    const child = this.spawnTool(role, 'server', ['--bind', addresses.join(','), '--port', String(port), ...(options.quiet ? ['--quiet'] : [])]);
    const server = new TrafficServer(child, addresses, port);
    await server.ready();
    return server;
  }

  /** N TCP connections or UDP flows, each from a new source port; results in request order. */
  async connect(options: ConnectOptions = {}): Promise<ConnectResult[]> {
    const from = options.from ?? this.lanAddress;
    const count = options.count ?? 1;
    const firstPort = this.portCursor;
    this.portCursor += count + PORT_SLACK;
    if (this.portCursor > PORT_LAST) this.portCursor = PORT_FIRST + (this.portCursor - PORT_LAST);
    const { results } = await this.runTool<{ results: ConnectResult[] }>(options.role ?? 'lan', 'client', [
      '--proto', options.proto ?? 'tcp',
      '--src', (typeof from === 'string' ? [from] : from).join(','),
      '--dst', options.to ?? this.serverAddress,
      '--port', String(options.port ?? DEFAULT_PORT),
      '--count', String(count),
      '--concurrency', String(options.concurrency ?? 16),
      '--timeout', String(options.timeoutMs ?? 3000),
      '--first-port', String(firstPort),
    ]);
    return results;
  }

  /** Opens a TCP connection that stays open; `ping()` checks it later. */
  async openLongLived(options: { from?: string; to?: string; port?: number; role?: Role } = {}): Promise<LongLivedConnection> {
    const child = this.spawnTool(options.role ?? 'lan', 'hold', [
      '--src', options.from ?? this.lanAddress,
      '--dst', options.to ?? this.serverAddress,
      '--port', String((options.port ?? DEFAULT_PORT) + 1),
    ]);
    return new LongLivedConnection(child).opened();
  }

  /** Bounded load: a new connection per request, for `durationMs` or `count` requests. */
  async load(options: LoadOptions): Promise<LoadReport> {
    if ((options.durationMs === undefined) === (options.count === undefined)) throw new Error('load: give exactly one of durationMs and count');
    const from = options.from ?? this.lanAddress;
    return this.runTool<LoadReport>(options.role ?? 'lan', 'load', [
      '--src', (typeof from === 'string' ? [from] : from).join(','),
      '--dst', options.to ?? this.serverAddress,
      '--port', String(options.port ?? DEFAULT_PORT),
      ...(options.durationMs !== undefined ? ['--duration', String(options.durationMs)] : ['--count', String(options.count)]),
      '--concurrency', String(options.concurrency ?? 8),
      '--stall', String(options.stallMs ?? 1000),
      '--timeout', String(options.timeoutMs ?? 5000),
      '--mode', options.mode ?? 'line',
      ...(options.path ? ['--path', options.path] : []),
      ...(options.startAt !== undefined ? ['--at', String(options.startAt)] : []),
    ]);
  }

  /** The router's connection tracking table. */
  async conntrack(): Promise<ConntrackEntry[]> {
    const { stdout } = await this.exec('router', 'conntrack', ['-L', '-o', 'extended']);
    return parseConntrack(stdout);
  }

  /** Empties the router's connection tracking table (only the router namespace's). */
  async flushConntrack(): Promise<void> {
    await this.exec('router', 'conntrack', ['-F'], { reject: false });
  }

  /** mwan's named counters by name (empty when the table does not exist). */
  async nftCounters(): Promise<Record<string, CounterValue>> {
    const result = await this.exec('router', 'nft', ['-j', 'list', 'counters', 'table', 'inet', 'mwan'], { reject: false });
    return result.exitCode === 0 ? parseNftCounters(result.stdout) : {};
  }

  /** The counter mwan keeps for a link of this lab. */
  counterOf(link: LabLink, counters: Record<string, CounterValue>): CounterValue | undefined {
    return counters[counterName(link)];
  }

  /** Removes every namespace, process and file of the lab. Safe to call twice, or concurrently. */
  destroy(): Promise<void> {
    this.destroying ??= this.remove();
    return this.destroying;
  }

  private async remove(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    const problems: string[] = [];
    for (const name of Object.values(this.ns) as string[]) {
      await removeNamespace(name).catch((error: Error) => problems.push(error.message));
    }
    rmSync(this.dir, { recursive: true, force: true });
    // Only now: a process that dies during the removal still finishes it in its exit handler.
    this.removed = true;
    untrack(this);
    const left = (await listNamespaces()).filter((name) => name.startsWith(`${this.stem}-`));
    if (left.length || problems.length) throw new Error(`lab ${this.stem} not fully removed: ${[...problems, ...left].join('; ')}`);
    this.log(`lab ${this.stem} removed`);
  }

  /** For exit handlers: the same, synchronously, also when an asynchronous destroy was cut short. */
  destroySync(): void {
    if (this.removed) return;
    this.removed = true;
    this.log(`process ending: removing lab ${this.stem}`);
    for (const child of this.children) child.kill('SIGKILL');
    for (const name of Object.values(this.ns) as string[]) removeNamespaceSync(name);
    rmSync(this.dir, { recursive: true, force: true });
    untrack(this);
  }
}
