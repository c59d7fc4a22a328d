/** The lab's address plan, after the article: one LAN, one router, one host per link gateway. */
export const LAN_SUBNET = '192.168.157';
export const LAN2_SUBNET = '192.168.158';
export const LAN_HOST = `${LAN_SUBNET}.3`;
export const LAN2_HOST = `${LAN2_SUBNET}.3`;
export const ROUTER_LAN = `${LAN_SUBNET}.253`;
export const ROUTER_LAN2 = `${LAN2_SUBNET}.253`;
/** Extra LAN addresses ("hosts") start here. */
export const LAN_EXTRA_FIRST = 10;
export const SERVER_FIRST = 100;
export const SERVER_SUBNET = '172.16.1';

/**
 * IPv6 (with `ipv6`), numbered as the IPv4 plan (the decimal digits written as hex: link 2 is
 * 2001:db8:37:2::253, the first server 2001:db8:16:1::100): a ULA LAN, documentation prefixes (2001:db8::/32) for the links, the server
 * and the prefixes ISPs route to the router. None of them leaves the lab's namespaces.
 */
export const LAN6_PREFIX = 'fd00:157::/64';
export const LAN6_HOST = 'fd00:157::3';
export const ROUTER_LAN6 = 'fd00:157::253';
/** A prefix link 2's ISP routes to the router (a DMZ on the LAN), and the LAN host's address in it. */
export const DMZ6_PREFIX = '2001:db8:2:100::/64';
export const DMZ6_HOST = '2001:db8:2:100::3';
export const ROUTER_DMZ6 = '2001:db8:2:100::253';
export const SERVER6_PREFIX = '2001:db8:16:1::';
/** Every link's far end also answers on this link-local address (RA default routes are link-local). */
export const GATEWAY6_LINK_LOCAL = 'fe80::1';

export const MAX_LINKS = 64;
export const MAX_LAN_EXTRA = 240;
export const MAX_SERVER_ADDRESSES = 155;

/** Token bucket on one link, applied on both ends so each direction is shaped. */
export interface Shaping {
  rateMbit: number;
  /** Bucket size in kB; default one 4 ms tick (HZ 250) of traffic, at least 32 kB. */
  burstKb?: number;
  /** How long a packet may wait in the bucket; default 50 ms. */
  latencyMs?: number;
}

export interface TopologyOptions {
  /** Number of links, 1..64 (default 2). */
  links?: number;
  /** Extra LAN addresses on the LAN host, 192.168.157.10.. (default 0). */
  lanAddresses?: number;
  /** Server addresses, 172.16.1.100.. (default 1). */
  serverAddresses?: number;
  /** A second LAN (192.168.158.0/24) on router eth1 with its own host namespace. */
  secondLan?: boolean;
  /** One shaping for every link, or per link (index 0 = link 1; undefined = unshaped). */
  shaping?: Shaping | readonly (Shaping | undefined)[];
  /** Reverse-path filtering the router starts with (all + default); 1 = strict, as many distributions ship. */
  rpFilter?: 0 | 1 | 2;
  /** Dual stack: IPv6 addresses on the LAN, the links and the server (see LAN6_PREFIX). Default off. */
  ipv6?: boolean;
}

export interface LabLink {
  /** 1-based. */
  index: number;
  /** The link name used in generated configs. */
  name: string;
  routerInterface: string;
  routerAddress: string;
  /** The server-side end plays the link's gateway. */
  gateway: string;
  serverInterface: string;
  shaping?: Shaping;
  /** With `ipv6`: the router's address on the link, the far end's, and the /64 the ISP routes for NPTv6. */
  routerAddress6?: string;
  gateway6?: string;
  nptPrefix6?: string;
}

export interface Topology {
  links: LabLink[];
  /** The LAN host's addresses: 192.168.157.3 first, then the extra ones. */
  lanAddresses: string[];
  serverAddresses: string[];
  secondLan: boolean;
  rpFilter: 0 | 1 | 2;
  ipv6: boolean;
  /** With `ipv6`: the LAN host's IPv6 addresses (LAN6_HOST first, then one per extra address) and the server's. */
  lanAddresses6: string[];
  serverAddresses6: string[];
}

function count(value: number | undefined, fallback: number, min: number, max: number, what: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`${what} must be a whole number from ${min} to ${max}, got ${n}`);
  return n;
}

export function planTopology(options: TopologyOptions = {}): Topology {
  const links = count(options.links, 2, 1, MAX_LINKS, 'links');
  const extra = count(options.lanAddresses, 0, 0, MAX_LAN_EXTRA, 'lanAddresses');
  const servers = count(options.serverAddresses, 1, 1, MAX_SERVER_ADDRESSES, 'serverAddresses');
  const shapingOf = (i: number): Shaping | undefined => {
    const s = Array.isArray(options.shaping) ? (options.shaping as readonly Shaping[])[i] : (options.shaping as Shaping | undefined);
    if (s && !(s.rateMbit > 0)) throw new RangeError(`shaping of link ${i + 1}: rateMbit must be positive`);
    return s;
  };
  return {
    links: Array.from({ length: links }, (_, i): LabLink => {
      const n = i + 1;
      const shaping = shapingOf(i);
      return {
        index: n,
        name: `isp${n}`,
        routerInterface: `wan${n}`,
        routerAddress: `10.37.${n}.253`,
        gateway: `10.37.${n}.1`,
        serverInterface: `link${n}`,
        ...(shaping ? { shaping } : {}),
        ...(options.ipv6 ? { routerAddress6: `2001:db8:37:${n}::253`, gateway6: `2001:db8:37:${n}::1`, nptPrefix6: `2001:db8:200:${n}::/64` } : {}),
      };
    }),
    lanAddresses: [LAN_HOST, ...Array.from({ length: extra }, (_, i) => `${LAN_SUBNET}.${LAN_EXTRA_FIRST + i}`)],
    serverAddresses: Array.from({ length: servers }, (_, i) => `${SERVER_SUBNET}.${SERVER_FIRST + i}`),
    secondLan: options.secondLan ?? false,
    rpFilter: options.rpFilter ?? 1,
    ipv6: options.ipv6 ?? false,
    lanAddresses6: options.ipv6 ? [LAN6_HOST, ...Array.from({ length: extra }, (_, i) => `fd00:157::${LAN_EXTRA_FIRST + i}`)] : [],
    serverAddresses6: options.ipv6 ? Array.from({ length: servers }, (_, i) => `${SERVER6_PREFIX}${SERVER_FIRST + i}`) : [],
  };
}

/** `tbf` arguments for one direction of a shaped link. */
export function tbfArgs(shaping: Shaping): string[] {
  const burstKb = shaping.burstKb ?? Math.max(32, Math.ceil((shaping.rateMbit * 1000) / 8 / 250));
  return ['rate', `${shaping.rateMbit}mbit`, 'burst', `${burstKb}kb`, 'latency', `${shaping.latencyMs ?? 50}ms`];
}

export interface NamespaceNames {
  lan: string;
  router: string;
  srv: string;
  lan2?: string;
}

/** What to run to build the topology, in order: pure data, so it can be read and tested. */
export interface BuildStep {
  /** Namespace the command runs in. */
  ns: string;
  /** `ip -batch` lines, `tc -batch` lines or one sysctl call. */
  tool: 'ip' | 'tc' | 'sysctl';
  lines: string[];
}

export function buildSteps(topology: Topology, ns: NamespaceNames): BuildStep[] {
  const steps: BuildStep[] = [];
  // Sysctls first: interfaces created later inherit `default`. Without `ipv6`, IPv6 is off so
  // router solicitations and DAD do not add stray packets to counters and conntrack. With it, no
  // DAD (addresses are usable at once) and no router solicitations or advertisements: every
  // address and route is the lab's own.
  const six = topology.ipv6;
  const ipv6Sysctls = six
    ? ['all', 'default'].flatMap((c) => [`net.ipv6.conf.${c}.accept_dad=0`, `net.ipv6.conf.${c}.accept_ra=0`, `net.ipv6.conf.${c}.router_solicitations=0`])
    : ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
  const rp = String(topology.rpFilter);
  steps.push({ ns: ns.router, tool: 'sysctl', lines: [...ipv6Sysctls, 'net.ipv4.ip_forward=1', ...(six ? ['net.ipv6.conf.all.forwarding=1'] : []), `net.ipv4.conf.all.rp_filter=${rp}`, `net.ipv4.conf.default.rp_filter=${rp}`] });
  // Many short connections: a wide port range and reuse of TIME_WAIT ports on the client side.
  const client = [...ipv6Sysctls, 'net.ipv4.ip_local_port_range=1024 65000', 'net.ipv4.tcp_tw_reuse=1'];
  steps.push({ ns: ns.lan, tool: 'sysctl', lines: client });
  if (ns.lan2) steps.push({ ns: ns.lan2, tool: 'sysctl', lines: client });
  // The server accepts a link's replies whatever the routing back would be (it is "the internet").
  steps.push({ ns: ns.srv, tool: 'sysctl', lines: [...ipv6Sysctls, 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'] });

  const router = ['link set lo up', `link add eth0 type veth peer name eth0 netns ${ns.lan}`, `addr add ${ROUTER_LAN}/24 dev eth0`, 'link set eth0 up'];
  if (six) router.push(`addr add ${ROUTER_LAN6}/64 dev eth0 nodad`, `addr add ${ROUTER_DMZ6}/64 dev eth0 nodad`);
  for (const link of topology.links) {
    router.push(
      `link add ${link.routerInterface} type veth peer name ${link.serverInterface} netns ${ns.srv}`,
      `addr add ${link.routerAddress}/24 dev ${link.routerInterface}`,
      ...(link.routerAddress6 ? [`addr add ${link.routerAddress6}/64 dev ${link.routerInterface} nodad`] : []),
      `link set ${link.routerInterface} up`,
    );
  }
  if (ns.lan2) router.push(`link add eth1 type veth peer name eth0 netns ${ns.lan2}`, `addr add ${ROUTER_LAN2}/24 dev eth1`, 'link set eth1 up');
  steps.push({ ns: ns.router, tool: 'ip', lines: router });

  const lan = ['link set lo up', ...topology.lanAddresses.map((a) => `addr add ${a}/24 dev eth0`), 'link set eth0 up', `route add default via ${ROUTER_LAN}`];
  if (six) {
    lan.push(...topology.lanAddresses6.map((a) => `addr add ${a}/64 dev eth0 nodad`), `addr add ${DMZ6_HOST}/64 dev eth0 nodad`, `route add default via ${ROUTER_LAN6}`);
  }
  steps.push({ ns: ns.lan, tool: 'ip', lines: lan });
  if (ns.lan2) steps.push({ ns: ns.lan2, tool: 'ip', lines: ['link set lo up', `addr add ${LAN2_HOST}/24 dev eth0`, 'link set eth0 up', `route add default via ${ROUTER_LAN2}`] });

  const srv = ['link set lo up', ...topology.serverAddresses.map((a) => `addr add ${a}/32 dev lo`), ...topology.serverAddresses6.map((a) => `addr add ${a}/128 dev lo`)];
  for (const link of topology.links) {
    srv.push(`addr add ${link.gateway}/24 dev ${link.serverInterface}`);
    if (link.gateway6) srv.push(`addr add ${link.gateway6}/64 dev ${link.serverInterface} nodad`, `addr add ${GATEWAY6_LINK_LOCAL}/64 dev ${link.serverInterface} nodad`);
    srv.push(`link set ${link.serverInterface} up`);
  }
  // The "internet" routes each link's NPTv6 prefix to that link, and the DMZ prefix to link 2.
  for (const link of topology.links) if (link.nptPrefix6) srv.push(`route add ${link.nptPrefix6} via ${link.routerAddress6} dev ${link.serverInterface}`);
  const dmzLink = topology.links[1];
  if (six && dmzLink) srv.push(`route add ${DMZ6_PREFIX} via ${dmzLink.routerAddress6} dev ${dmzLink.serverInterface}`);
  steps.push({ ns: ns.srv, tool: 'ip', lines: srv });

  // As a real router: the main table's only way out is link 1; nothing else knows the server.
  const first = topology.links[0];
  steps.push({ ns: ns.router, tool: 'ip', lines: [`route add default via ${first.gateway} dev ${first.routerInterface}`, ...(first.gateway6 ? [`route add default via ${first.gateway6} dev ${first.routerInterface}`] : [])] });

  const shaped = topology.links.filter((l) => l.shaping);
  if (shaped.length) {
    steps.push({ ns: ns.router, tool: 'tc', lines: shaped.map((l) => ['qdisc add dev', l.routerInterface, 'root tbf', ...tbfArgs(l.shaping!)].join(' ')) });
    steps.push({ ns: ns.srv, tool: 'tc', lines: shaped.map((l) => ['qdisc add dev', l.serverInterface, 'root tbf', ...tbfArgs(l.shaping!)].join(' ')) });
  }
  return steps;
}
