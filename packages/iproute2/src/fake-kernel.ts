import type { KernelInterface } from './kernel-interfaces.js';
import type { KernelRoute } from './kernel-routes.js';
import type { KernelRule } from './kernel-rules.js';
import type { RecordedCall, RecordingRunner, Responder } from './recording-runner.js';
import type { RunResult } from './runner.js';
import type { SysctlStore } from './sysctl-store.js';

export interface FakeKernelOptions {
  /**
   * Interfaces that exist; routes via others fail like the kernel's. Default: any name exists.
   * `ip addr show` lists them up, with carrier, and (as in the lab) `ethN`/`wanN` (and VLANs `ethN.V`) on 10.37.N.253/24
   * and `eth0` on 192.168.157.1/24; by default it lists eth0-eth15 and wan1-wan64.
   */
  interfaces?: readonly string[];
  /**
   * More interfaces (up, with carrier) and their addresses: `10.40.1.253/24`, `10.64.0.1 peer
   * 10.64.0.2`, or IPv6 ones (global): `2001:db8:1::253/64`.
   */
  addresses?: Readonly<Record<string, readonly string[]>>;
  rules?: readonly KernelRule[];
  /** IPv6 rules (`ip -6 rule`); default the kernel's two. */
  rules6?: readonly KernelRule[];
  /** Routes of both families; IPv6 ones have `family: "inet6"` (or an address with a colon). */
  routes?: readonly KernelRoute[];
  /** `nft list table inet mwan` text, or null (default) when the table does not exist. */
  table?: string | null;
  sysctls?: Readonly<Record<string, string>>;
  /** Conntrack entry counts by mark. */
  conntrack?: Readonly<Record<number, number>>;
  /** Calls to fail: command line prefix (`ip rule del pref 31001 fwmark 0x2`) → the error printed. */
  fail?: Readonly<Record<string, string>>;
}

const DEFAULT_RULES: KernelRule[] = [
  { priority: 0, src: 'all', table: '255' },
  { priority: 32766, src: 'all', table: '254' },
  { priority: 32767, src: 'all', table: '253' },
];
const DEFAULT_RULES6: KernelRule[] = [
  { priority: 0, src: 'all', table: '255' },
  { priority: 32766, src: 'all', table: '254' },
];

type Family = 'inet' | 'inet6';
const familyOf = (route: KernelRoute): Family => (route.family === 'inet6' || route.dst.includes(':') || (route.gateway ?? '').includes(':') ? 'inet6' : 'inet');
/** As the kernel prints it: the family is not a field. */
const printed = (route: KernelRoute): KernelRoute => {
  const { family: _family, ...rest } = route;
  return rest;
};

const fail = (stderr: string, exitCode = 2): Partial<RunResult> => ({ exitCode, stderr: `${stderr}\n` });

/**
 * An in-memory router that answers the `ip`, `nft` and `conntrack` calls mwan makes, closely
 * enough that applying twice, rolling back and tearing down can be checked end to end in unit
 * tests: `new RecordingRunner(kernel.respond)`.
 */
export class FakeKernel implements SysctlStore {
  rules: KernelRule[];
  rules6: KernelRule[];
  routes: KernelRoute[];
  table: string | null;
  readonly sysctls: Map<string, string>;
  readonly conntrack: Map<number, number>;
  private readonly interfaces?: Set<string>;
  /** What `ip -json addr show` lists, by name: change it to take a link's interface away or down. */
  readonly links: Map<string, KernelInterface>;
  private readonly failures: Array<{ prefix: string; message: string; times: number }>;
  /** Where sysctl writes are noted, so they show in a transcript. */
  recorder?: Pick<RecordingRunner, 'note'>;

  constructor(options: FakeKernelOptions = {}) {
    this.rules = structuredClone([...(options.rules ?? DEFAULT_RULES)]);
    this.rules6 = structuredClone([...(options.rules6 ?? DEFAULT_RULES6)]);
    this.routes = structuredClone([...(options.routes ?? [])]).map((r) => (familyOf(r) === 'inet6' ? { ...r, family: 'inet6' as const } : r));
    this.table = options.table ?? null;
    this.sysctls = new Map(Object.entries(options.sysctls ?? { 'net/ipv4/ip_forward': '0' }));
    this.conntrack = new Map(Object.entries(options.conntrack ?? {}).map(([k, v]) => [Number(k), v]));
    if (options.interfaces) this.interfaces = new Set(options.interfaces);
    this.links = new Map((options.interfaces ?? DEFAULT_INVENTORY).map((name) => [name, upInterface(name)]));
    for (const [name, addresses] of Object.entries(options.addresses ?? {})) {
      this.interfaces?.add(name);
      this.links.set(name, upInterface(name, addresses));
    }
    this.failures = Object.entries(options.fail ?? {}).map(([prefix, message]) => ({ prefix, message, times: Infinity }));
  }

  /** Makes commands starting with `prefix` (`ip rule del pref 31001`) fail `times` times, inside batches too. */
  failOn(prefix: string, message: string, times = Infinity): this {
    this.failures.push({ prefix, message, times });
    return this;
  }

  private failure(line: string): Partial<RunResult> | undefined {
    const found = this.failures.find((f) => f.times > 0 && (line === f.prefix || line.startsWith(`${f.prefix} `)));
    if (!found) return undefined;
    found.times--;
    return fail(found.message);
  }

  readonly respond: Responder = (call: RecordedCall) => {
    const failure = this.failure(call.line);
    if (failure) return failure;
    if (call.file === 'ip' && call.args.includes('-batch')) return this.ipBatch(call.args, call.input ?? '');
    if (call.file === 'ip') return this.ip(stripFamily(call.args), familyOption(call.args));
    if (call.file === 'nft') return this.nft(call.args, call.input ?? '');
    if (call.file === 'conntrack') return this.conntrackCall(call.args);
    return undefined;
  };

  async read(path: string): Promise<string | undefined> {
    const known = this.sysctls.get(path);
    if (known !== undefined) return known;
    // The kernel's own default for `all`.
    if (path === 'net/ipv4/conf/all/rp_filter') return '0';
    const iface = /^net\/ipv4\/conf\/([^/]+)\/rp_filter$/.exec(path)?.[1];
    // Like a fresh Debian interface: strict reverse-path filtering.
    if (iface !== undefined && this.hasInterface(iface)) return '1';
    return undefined;
  }

  async write(path: string, value: string): Promise<void> {
    if ((await this.read(path)) === undefined) throw new Error(`cannot write ${value} to /proc/sys/${path}: no such file`);
    this.sysctls.set(path, value);
    this.recorder?.note(`[sysctl] ${path} = ${value}`);
  }

  private hasInterface(name: string): boolean {
    return !this.interfaces || this.interfaces.has(name);
  }

  /** `family`: what `-4`/`-6` asked for; undefined: IPv4 for changes, both for `route show`. */
  private ip(args: string[], family?: Family): Partial<RunResult> {
    const [object, verb, ...rest] = args[0] === '-N' && args[1] === '-json' ? args.slice(2) : args;
    const routes = (list: readonly KernelRoute[]) => ({ stdout: `${JSON.stringify(list.filter((r) => family === undefined || familyOf(r) === family).map(printed))}\n` });
    if (args[1] === '-json' && object === 'rule') return { stdout: `${JSON.stringify(family === 'inet6' ? this.rules6 : this.rules)}\n` };
    if (args[1] === '-json' && object === 'route') return routes(this.routes);
    if (args[0] === '-json' && args[1] === 'addr' && args[2] === 'show') return { stdout: `${JSON.stringify([...this.links.values()])}\n` };
    // `ip -N`: an address's scope as a number; with a family, only interfaces with an address of it.
    if (args[0] === '-N' && args[1] === '-json' && object === 'link' && verb === 'show') {
      return { stdout: `${JSON.stringify([...this.links.values()].map(({ addr_info: _addresses, ...link }) => link))}\n` };
    }
    if (args[0] === '-N' && args[1] === '-json' && object === 'addr' && verb === 'show') {
      const listed = [...this.links.values()].map((link) => ({
        ...link,
        addr_info: (link.addr_info ?? []).filter((a) => family === undefined || a.family === family).map((a) => ({ ...a, ...(a.scope === 'global' ? { scope: '0' } : {}) })),
      })).filter((link) => family === undefined || link.addr_info.length);
      return { stdout: `${JSON.stringify(listed)}\n` };
    }
    if (args[0] === '-json' && args[1] === 'route' && args.slice(2).join(' ') === 'show table main default') {
      return routes(this.routes.filter((r) => r.dst === 'default' && (r.table === undefined || r.table === 'main' || r.table === '254')));
    }
    if (object === 'rule' && (verb === 'add' || verb === 'del')) return this.rule(verb, rest, family === 'inet6' ? this.rules6 : this.rules);
    if (object === 'route' && (verb === 'replace' || verb === 'del')) return this.route(verb, rest, family ?? 'inet');
    return fail(`fake kernel: unsupported ip ${args.join(' ')}`);
  }

  /** Like `ip -batch -`: line by line, stopping at the first failure unless forced; `-N -json` apply to every line. */
  private ipBatch(args: readonly string[], input: string): Partial<RunResult> {
    const family = familyOption(args);
    const force = args.includes('-force');
    const json = args.includes('-json') ? [...(args.includes('-N') ? ['-N'] : []), '-json'] : [];
    let stderr = '';
    let stdout = '';
    const lines = input.split('\n').filter((l) => l.trim());
    const option = family === 'inet6' ? '-6 ' : family === 'inet' ? '-4 ' : '';
    for (const [index, line] of lines.entries()) {
      const result = this.failure(`ip ${option}${line}`) ?? this.ip([...json, ...line.trim().split(/\s+/)], family);
      stdout += result.stdout ?? '';
      if ((result.exitCode ?? 0) === 0) continue;
      stderr += `${result.stderr ?? ''}Command failed -:${index + 1}\n`;
      if (!force) break;
    }
    return stderr ? { exitCode: 1, stdout, stderr } : { stdout };
  }

  private rule(verb: 'add' | 'del', args: string[], rules: KernelRule[]): Partial<RunResult> {
    const rule = parseRule(args);
    const same = (r: KernelRule) => JSON.stringify(comparable(r)) === JSON.stringify(comparable(rule));
    if (verb === 'add') {
      if (rules.some(same)) return fail('RTNETLINK answers: File exists');
      // The kernel puts a rule after the others of the same priority.
      const at = rules.findIndex((r) => r.priority > rule.priority);
      rules.splice(at < 0 ? rules.length : at, 0, rule);
      return {};
    }
    const index = rules.findIndex((r) => matchesGiven(r, rule));
    if (index < 0) return fail('RTNETLINK answers: No such file or directory');
    rules.splice(index, 1);
    return {};
  }

  private route(verb: 'replace' | 'del', args: string[], family: Family): Partial<RunResult> {
    const parsed = parseRoute(args);
    // Like the kernel: an IPv6 route added without a metric gets 1024.
    const route: KernelRoute = family === 'inet6' ? { ...parsed, family, metric: parsed.metric ?? 1024 } : parsed;
    if (route.dev !== undefined && !this.hasInterface(route.dev)) return fail(`Cannot find device "${route.dev}"`, 1);
    const slot = (r: KernelRoute) => familyOf(r) === family && r.dst === route.dst && (r.table ?? '254') === (route.table ?? '254') && (r.metric ?? 0) === (route.metric ?? 0);
    const index = this.routes.findIndex(slot);
    if (verb === 'replace') {
      if (index >= 0) this.routes[index] = route;
      else this.routes.push(route);
      return {};
    }
    const match = this.routes.findIndex((r) => slot(r)
      && (route.gateway === undefined || r.gateway === route.gateway)
      && (route.dev === undefined || r.dev === route.dev)
      && (route.protocol === undefined || r.protocol === route.protocol));
    if (match < 0) return fail('RTNETLINK answers: No such process');
    this.routes.splice(match, 1);
    return {};
  }

  private nft(args: readonly string[], input: string): Partial<RunResult> {
    const line = args.join(' ');
    if (line === '-c -f -') return {};
    if (line === '-f -') return this.nftLoad(input);
    if (line === 'list table inet mwan') {
      return this.table === null ? fail('Error: No such file or directory\nlist table inet mwan\n                ^^^^', 1) : { stdout: this.table };
    }
    if (line === '-j list counters table inet mwan') {
      if (this.table === null) return fail('Error: No such file or directory', 1);
      const names = [...this.table.matchAll(/^\s*counter (\S+) \{/gm)].map((m) => m[1]);
      const nftables = names.map((name) => ({ counter: { family: 'inet', name, table: 'mwan', handle: 1, packets: 0, bytes: 0 } }));
      return { stdout: `${JSON.stringify({ nftables })}\n` };
    }
    if (line === '-j list sets table inet mwan') {
      if (this.table === null) return fail('Error: No such file or directory', 1);
      // Sets as declared: the fake kernel has no packets, so no set gains an element.
      const names = [...this.table.matchAll(/^\s*set (\S+) \{/gm)].map((m) => m[1]);
      const nftables = names.map((name) => ({ set: { family: 'inet', name, table: 'mwan', type: 'ipv4_addr', handle: 1 } }));
      return { stdout: `${JSON.stringify({ nftables })}\n` };
    }
    return fail(`fake kernel: unsupported nft ${line}`, 1);
  }

  /** Statements of an `nft -f` file that mwan writes, applied all or nothing. */
  private nftLoad(input: string): Partial<RunResult> {
    let table = this.table;
    const lines = input.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i].trim();
      if (text === '' || text.startsWith('#')) continue;
      if (text === 'table inet mwan') table ??= 'table inet mwan {\n}\n';
      else if (text === 'delete table inet mwan') {
        if (table === null) return fail('Error: Could not process rule: No such file or directory', 1);
        table = null;
      } else if (text === 'table inet mwan {') {
        const end = lines.findIndex((l, j) => j > i && l === '}');
        if (end < 0) return fail('Error: syntax error, unexpected end of file', 1);
        table = `${lines.slice(i, end + 1).join('\n')}\n`;
        i = end;
      } else if (/^add element inet mwan \S+ \{.*\}$/.test(text)) {
        if (table === null) return fail('Error: No such file or directory', 1);
      } else return fail(`fake kernel: unsupported nft statement: ${text}`, 1);
    }
    this.table = table;
    return {};
  }

  private conntrackCall(args: readonly string[]): Partial<RunResult> {
    const [op, flag, value] = args;
    if (flag !== '-m') return fail(`fake kernel: unsupported conntrack ${args.join(' ')}`, 1);
    // `MARK` or `MARK/MASK`: entries whose mark has MARK in the bits of MASK.
    const [mark, mask] = value.split('/').map(Number) as [number, number | undefined];
    const matching = [...this.conntrack.keys()].filter((m) => (mask === undefined ? m === mark : ((m & mask) >>> 0) === mark));
    const count = matching.reduce((sum, m) => sum + (this.conntrack.get(m) ?? 0), 0);
    if (op === '-L') return { stdout: 'tcp 6 431999 ESTABLISHED\n'.repeat(count), stderr: `conntrack v1.4.7 (conntrack-tools): ${count} flow entries have been shown.\n` };
    if (op === '-D') {
      for (const m of matching) this.conntrack.delete(m);
      return { exitCode: count ? 0 : 1, stderr: `conntrack v1.4.7 (conntrack-tools): ${count} flow entries have been deleted.\n` };
    }
    return fail(`fake kernel: unsupported conntrack ${args.join(' ')}`, 1);
  }
}

const DEFAULT_INVENTORY = [...Array.from({ length: 16 }, (_, i) => `eth${i}`), ...Array.from({ length: 64 }, (_, i) => `wan${i + 1}`)];

function upInterface(name: string, addresses?: readonly string[]): KernelInterface {
  const n = /^(?:eth|wan)(\d+)(?:\.\d+)?$/.exec(name)?.[1];
  const conventional = n === undefined ? [] : [n === '0' ? '192.168.157.1/24' : `10.37.${Number(n) % 256}.253/24`];
  const addrInfo = (addresses ?? conventional).map((text) => {
    const [local, peer] = text.split(' peer ');
    const [address, prefix] = (peer ?? local).split('/');
    if (address.includes(':')) return { family: 'inet6', local: address, prefixlen: Number(prefix ?? 128), scope: 'global' };
    return peer === undefined
      ? { family: 'inet', local: address, prefixlen: Number(prefix ?? 32) }
      : { family: 'inet', local, address, prefixlen: Number(prefix ?? 32) };
  });
  const pointToPoint = addrInfo.some((a) => 'address' in a);
  return {
    ifname: name, flags: [pointToPoint ? 'POINTOPOINT' : 'BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], operstate: pointToPoint ? 'UNKNOWN' : 'UP',
    addr_info: addrInfo,
  };
}

function stripFamily(args: readonly string[]): string[] {
  return args[0] === '-4' || args[0] === '-6' ? args.slice(1) : [...args];
}

function familyOption(args: readonly string[]): Family | undefined {
  return args[0] === '-6' ? 'inet6' : args[0] === '-4' ? 'inet' : undefined;
}

const TABLE_NAMES: Readonly<Record<string, string>> = { main: '254', default: '253', local: '255' };

function parseRule(args: readonly string[]): KernelRule {
  const rule: KernelRule = { priority: 0, src: 'all' };
  for (let i = 0; i < args.length; i += 2) {
    const [key, value] = [args[i], args[i + 1]];
    if (key === 'pref' || key === 'priority') rule.priority = Number(value);
    else if (key === 'from') [rule.src, rule.srclen] = splitPrefix(value);
    else if (key === 'to') [rule.dst, rule.dstlen] = splitPrefix(value);
    else if (key === 'iif' || key === 'oif') rule[key] = value;
    else if (key === 'fwmark') {
      const [mark, mask] = value.split('/');
      rule.fwmark = `0x${Number(mark).toString(16)}`;
      if (mask !== undefined && Number(mask) !== 0xffffffff) rule.fwmask = `0x${Number(mask).toString(16)}`;
    } else if (key === 'lookup' || key === 'table') rule.table = TABLE_NAMES[value] ?? value;
    else if (key === 'suppress_prefixlength') rule.suppress_prefixlen = Number(value);
    else if (key === 'proto' || key === 'protocol') rule.protocol = value;
    else throw new Error(`fake kernel: unsupported rule selector ${key}`);
  }
  return rule;
}

function splitPrefix(value: string): [string, number | undefined] {
  const [address, length] = value.split('/');
  return [address, length === undefined ? undefined : Number(length)];
}

const comparable = (r: KernelRule) => ({ ...r, protocol: undefined });

/** `ip rule del` matches on what the command names; the rest may be anything. */
function matchesGiven(rule: KernelRule, given: KernelRule): boolean {
  return Object.entries(given).every(([key, value]) => value === undefined || (key === 'src' && value === 'all') || rule[key] === value);
}

function parseRoute(args: readonly string[]): KernelRoute {
  const rest = [...args];
  const route: KernelRoute = { dst: '' };
  if (['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw'].includes(rest[0])) {
    const type = rest.shift() as string;
    if (type !== 'unicast') route.type = type;
  }
  route.dst = rest.shift() ?? '';
  for (let i = 0; i < rest.length; i += 2) {
    const [key, value] = [rest[i], rest[i + 1]];
    if (key === 'via') route.gateway = value;
    else if (key === 'dev') route.dev = value;
    else if (key === 'table') route.table = TABLE_NAMES[value] ?? value;
    else if (key === 'proto') route.protocol = value;
    else if (key === 'metric') route.metric = Number(value);
    else throw new Error(`fake kernel: unsupported route attribute ${key}`);
  }
  if (route.table === '254') delete route.table;
  if (route.gateway === undefined && route.type === undefined) route.scope = 'link';
  return route;
}
