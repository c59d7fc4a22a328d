import { NFT_FAMILY, NFT_TABLE } from './constants.js';
import type { LinkModel, Model } from './model.js';
import { hex, pickChain, selectorVerdict, type Selector } from './nft-builder.js';
import { identifier, ipv4, ipv6, ipv6Prefix, quote } from './nft-quote.js';
import { ruleChains, ruleDispatch, type RulePlan } from './render-rules.js';

const T = '\t';

/** Per-link chain names are derived from link names, which the schema limits to [a-z0-9_-]. */
const snatChain = (link: LinkModel) => identifier(`snat_${link.name}`);
const restoreChain = (link: LinkModel) => identifier(`restore_${link.name}`);
const comment = (text: string) => `comment ${quote(`mwan: ${text}`)}`;

function snatStatement(link: LinkModel, guarded: boolean): string | undefined {
  if (link.snat.kind === 'address') return `snat ip to ${ipv4(link.snat.address)} ${comment(`link ${link.name}`)}`;
  if (link.snat.kind === 'masquerade') return `${guarded ? 'meta nfproto ipv4 ' : ''}masquerade ${comment(`link ${link.name}`)}`;
  return undefined;
}

/**
 * A link's IPv6 translation. Its ISP's own prefixes leave untranslated. NPTv6 maps the LAN's
 * prefix; anything else that leaves by an NPTv6 link (the router's own connections moved there)
 * is masqueraded, as a source of another prefix would get no reply.
 */
function snatStatements6(link: LinkModel): string[] {
  const six = link.ipv6;
  if (!six) return [];
  const note = comment(`link ${link.name} IPv6`);
  const routed = six.routed.length ? [`ip6 saddr ${prefixSet(six.routed)} return ${comment(`prefix routed by link ${link.name}`)}`] : [];
  if (six.snat.kind === 'none') return [];
  if (six.snat.kind === 'address') return [...routed, `snat ip6 to ${ipv6(six.snat.address)} ${note}`];
  if (six.snat.kind === 'prefix') {
    return [...routed, `ip6 saddr ${ipv6Prefix(six.snat.from)} snat ip6 prefix to ${ipv6Prefix(six.snat.to)} ${note}`, `meta nfproto ipv6 masquerade ${note}`];
  }
  return [...routed, `meta nfproto ipv6 masquerade ${note}`];
}

const prefixSet = (prefixes: readonly string[]) => (prefixes.length === 1 ? ipv6Prefix(prefixes[0]) : `{ ${prefixes.map(ipv6Prefix).join(', ')} }`);

/**
 * Neighbour discovery, router advertisements and everything else link-local or multicast in
 * IPv6 belongs to one wire: never given a link, never NATed (a marked RA or NS would be routed by
 * a link's table; a NATed one would lie about its source).
 */
const LINK_LOCAL6 = [
  `ip6 saddr fe80::/10 return ${comment('link-local IPv6')}`,
  `ip6 daddr { fe80::/10, ff00::/8 } return ${comment('link-local and multicast IPv6')}`,
  `icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } return ${comment('neighbour discovery')}`,
];

/** A rule for the families `four` and `six` say: no guard for both, `meta nfproto` for one (without IPv6 links an earlier rule let only IPv4 in). */
const forFamilies = (four: boolean, six: boolean, rule: string): string[] => {
  if (four && six) return [rule];
  if (four) return [`meta nfproto ipv4 ${rule}`];
  if (six) return [`meta nfproto ipv6 ${rule}`];
  return [];
};

export interface RenderNftOptions {
  /** Links new connections may use now (health); default all. */
  active?: readonly string[];
  /**
   * The choice for new IPv6 connections, among links that carry IPv6, and those of them that take
   * new IPv6 connections now (default all). Absent: IPv6 is left alone, as without mwan.
   */
  ipv6?: { selector: Selector; active?: readonly string[] };
  /** The policy rules, each with what it does now (render.ts plans them); default none. */
  rules?: readonly RulePlan[];
}

/**
 * The whole table as one `nft -f` file: declare, delete, define. The kernel applies it in one
 * transaction whether or not the table existed, and nothing outside `inet mwan` is named.
 *
 * Marks: mwan reads and writes only the bits of `markMask` in the packet mark and the ct mark.
 * nft 1.0.6 refuses an expression that combines two registers (`meta mark set meta mark & ~M |
 * ct mark & M`), so a mark is copied by a verdict map on the masked value into per-link chains
 * that each write one constant into the masked bits (`meta mark set meta mark & ~M | 0x1`).
 */
export function renderNft(model: Model, selector: Selector, strategyName: string, options: RenderNftOptions = {}): string {
  const table = `${NFT_FAMILY} ${NFT_TABLE}`;
  const mask = model.markMask;
  const keep = hex((~mask) >>> 0);
  const masked = `& ${hex(mask)}`;
  const setBits = (what: 'meta' | 'ct', mark: number) => `${what} mark set ${what} mark & ${keep} | ${hex(mark)}`;
  const lines: string[] = [];
  const add = (depth: number, text: string) => lines.push(T.repeat(depth) + text);
  const chain = (name: string, body: readonly string[]) => {
    add(1, `chain ${name} {`);
    for (const line of body) add(2, line);
    add(1, '}');
  };

  const active = new Set(options.active?.length ? options.active : model.links.map((l) => l.name));
  const links6 = options.ipv6 ? model.links.filter((l) => l.ipv6) : [];
  const selector6 = links6.length ? options.ipv6?.selector : undefined;
  const six = selector6 !== undefined;
  const active6 = new Set(options.ipv6?.active?.length ? options.ipv6.active : links6.map((l) => l.name));
  const routed = links6.filter((l) => l.ipv6?.routed.length);
  const plans = options.rules ?? [];
  const rules = ruleChains(plans);
  const picked = model.links.filter((l) => selector.marks.includes(l.mark) || selector6?.marks.includes(l.mark) || routed.includes(l) || rules.marks.includes(l.mark));
  const firstOf = (marks: readonly number[]) => model.links.find((l) => marks.includes(l.mark)) as LinkModel;
  // The router's own new connections that mwan gives a link: those about to leave by a link that
  // is down (failover), or by any link (balance), per family. They are rerouted by the output chain's mark.
  const divertedIn = (links: readonly LinkModel[], up: ReadonlySet<string>) =>
    new Set(model.routerTraffic === 'balance' ? links : model.routerTraffic === 'failover' ? links.filter((l) => !up.has(l.name)) : []);
  const diverted4 = divertedIn(model.links, active);
  const diverted6 = divertedIn(links6, active6);
  const diverted = model.links.filter((l) => diverted4.has(l) || diverted6.has(l));
  const output = model.inbound || model.routerTraffic !== 'off';
  // Without IPv6 links only IPv4 is looked at; with them, the inet table sees nothing but the two.
  const onlyIpv4 = six ? [] : ['meta nfproto != ipv4 return'];

  add(0, `table ${table}`);
  add(0, `delete table ${table}`);
  add(0, `table ${table} {`);

  for (const link of model.links) {
    add(1, `counter ${identifier(counterName(link))} {`);
    add(2, comment(`link ${link.name}`));
    add(1, '}');
  }
  for (const declaration of rules.declarations) for (const line of declaration) add(1, line);

  // LAN interfaces by plain comparison, one rule each: a set lookup can miss for a packet in
  // flight during a reload (see below), and a LAN packet taken for a foreign one would skip the
  // restore or the balancing. `goto`: a LAN packet is done with this chain after `lan`.
  // A new connection that arrives on a link takes that link (ct mark only: the packet itself goes
  // where the main table or a DNAT sends it); replies restore it in `lan` or `output`.
  chain('prerouting', [
    'type filter hook prerouting priority mangle; policy accept;',
    ...(six ? LINK_LOCAL6 : []),
    ...model.lan.map((lan) => `iifname ${quote(lan)} goto lan`),
    ...(model.inbound
      ? [
          'ct state != new return',
          ...onlyIpv4,
          ...model.links.flatMap((l) => forFamilies(true, !six || l.ipv6 !== undefined, `iifname ${quote(l.interface)} ct mark ${masked} == 0x0 ${setBits('ct', l.mark)} ${comment(`inbound on link ${l.name}`)}`)),
        ]
      : []),
  ]);

  // The saved link, restored into the packet mark's masked bits: a verdict map, then (for a
  // lookup that missed during a reload) one plain rule per link, reached only by a packet whose
  // connection has a mark no lookup found.
  const restore = [
    `ct mark ${masked} vmap { ${model.links.map((l) => `${hex(l.mark)} : goto ${restoreChain(l)}`).join(', ')} } ${comment('restore the link of a connection')}`,
    `ct mark ${masked} != 0x0 goto missed_restore`,
  ];
  // During a reload, a packet that entered the old table may look up the old table's map after
  // the commit has retired its elements: the lookup misses and no link is chosen. Unmarked, the
  // connection would leave without its link and its conntrack entry would stay that way (every
  // retry reuses it). A plain goto needs no lookup, so such a connection still gets a link.
  const strategyComment = comment(`strategy ${strategyName.slice(0, 40).replace(/[^A-Za-z0-9_.@: -]/g, '_')}`);
  const reloadFallback = (s: Selector, guard: string) =>
    (s.marks.length > 1 ? [`${guard}goto ${identifier(pickChain(firstOf(s.marks)))} ${comment('a connection that met a reload')}`] : []);
  // IPv6 first, by its own choice among the links that carry it: every new IPv6 connection leaves
  // the chain there, so what follows sees only IPv4 (a hash on `ip saddr` could not match IPv6).
  const choose = [
    ...(selector6 ? [`meta nfproto ipv6 ${selectorVerdict(selector6)} ${strategyComment}`, ...reloadFallback(selector6, 'meta nfproto ipv6 ')] : []),
    `${selectorVerdict(selector)} ${strategyComment}`,
    ...reloadFallback(selector, ''),
  ];
  // A prefix the link's ISP routes to the router can only leave by that link: never balanced.
  const pinned = routed.map((l) => `ip6 saddr ${prefixSet(l.ipv6?.routed ?? [])} goto ${identifier(pickChain(l))} ${comment(`prefix routed by link ${l.name}`)}`);

  // Marks are chosen once per connection (ct mark's bits 0) and restored on every later packet,
  // so a connection keeps its link across reloads; unreplied UDP/TCP retries are still "new" to
  // conntrack and must not be balanced a second time.
  chain('lan', [
    ...onlyIpv4,
    ...restore,
    'ct state != new return',
    'fib daddr type { local, broadcast, multicast } return',
    ...pinned,
    // Policy rules (IPv4): a few verdict-map lookups into the rules' chains (render-rules.ts), first match wins.
    ...ruleDispatch(plans.map((p) => p.rule), model.lan, six ? 'meta nfproto ipv4 ' : ''),
    ...choose,
  ]);

  if (output) {
    // The router's own packets: replies to inbound connections and its own connections that mwan
    // gave a link get their mark back, and the route hook sends them again through the link's
    // table. A socket that sets its own mark (SO_MARK: WireGuard, mwan's probes) is left alone.
    chain('output', [
      'type route hook output priority mangle; policy accept;',
      ...onlyIpv4,
      ...(six ? LINK_LOCAL6 : []),
      `meta mark != 0x0 return ${comment('a socket that sets its own mark')}`,
      ...restore,
      ...(diverted.length
        ? [
            'ct state != new return',
            ...diverted.flatMap((l) => forFamilies(diverted4.has(l), !six || diverted6.has(l), `oifname ${quote(l.interface)} goto balance ${comment(model.routerTraffic === 'balance' ? `router connection on link ${l.name}` : `router connection on down link ${l.name}`)}`)),
          ]
        : []),
    ]);
    if (diverted.length) chain('balance', choose);
  }
  for (const [name, body] of rules.chains) chain(name, body);

  chain('missed_restore', model.links.map((l) => `ct mark ${masked} == ${hex(l.mark)} goto ${restoreChain(l)}`));
  for (const link of model.links) chain(restoreChain(link), [setBits('meta', link.mark)]);
  for (const link of picked) {
    chain(identifier(pickChain(link)), [setBits('meta', link.mark), `${setBits('ct', link.mark)} counter name ${quote(counterName(link))}`]);
  }

  const natChain = (l: LinkModel) => [...(snatStatement(l, six) ? [snatStatement(l, six) as string] : []), ...(six ? snatStatements6(l) : [])];
  const natted = model.links.filter((l) => natChain(l).length);
  if (natted.length) {
    // NAT by the outgoing interface alone: whatever sent a new connection out of a link (a mark,
    // a specific route such as the link's own subnet, a LAN mwan does not balance) it leaves with
    // the link's address. The router's own connections are NATed only when mwan moved them (their
    // source was chosen for another route); on their usual route they keep the source they bound.
    // One verdict-map lookup, whatever the number of links. A map of the old table can miss for a
    // packet in flight during a reload (see above), and a new connection that missed NAT would
    // keep a conntrack entry without it: one plain rule per link, reached only after such a miss
    // (or by traffic that does not leave by a link), catches it. Only a connection's first packet
    // comes here.
    chain('postrouting', [
      'type nat hook postrouting priority srcnat; policy accept;',
      ...(six ? LINK_LOCAL6.slice(0, 2) : []),
      `meta mark ${masked} == 0x0 fib saddr type local return ${comment('router connection on its usual route')}`,
      `oifname vmap { ${natted.map((l) => `${quote(l.interface)} : goto ${snatChain(l)}`).join(', ')} }`,
      ...natted.map((l) => `oifname ${quote(l.interface)} goto ${snatChain(l)}`),
    ]);
    for (const link of natted) chain(snatChain(link), natChain(link));
  }
  add(0, '}');
  return `${lines.join('\n')}\n`;
}

/** Named counters share the table's namespace with nothing else; a leading digit gets a prefix. */
export function counterName(link: Pick<LinkModel, 'name'>): string {
  return link.name.replace(/^(\d)/, 'l$1');
}
