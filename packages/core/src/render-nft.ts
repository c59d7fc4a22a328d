import { NFT_FAMILY, NFT_TABLE } from './constants.js';
import type { LinkModel, Model } from './model.js';
import { hex, pickChain, selectorVerdict, type Selector } from './nft-builder.js';
import { identifier, ipv4, quote } from './nft-quote.js';

const T = '\t';

/** Per-link chain names are derived from link names, which the schema limits to [a-z0-9_-]. */
const snatChain = (link: LinkModel) => identifier(`snat_${link.name}`);
const restoreChain = (link: LinkModel) => identifier(`restore_${link.name}`);
const comment = (text: string) => `comment ${quote(`mwan: ${text}`)}`;

function snatStatement(link: LinkModel): string | undefined {
  if (link.snat.kind === 'address') return `snat ip to ${ipv4(link.snat.address)} ${comment(`link ${link.name}`)}`;
  if (link.snat.kind === 'masquerade') return `masquerade ${comment(`link ${link.name}`)}`;
  return undefined;
}

export interface RenderNftOptions {
  /** Links new connections may use now (health); default all. */
  active?: readonly string[];
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
  const picked = model.links.filter((l) => selector.marks.includes(l.mark));
  const first = picked[0];
  const lookups = selector.marks.length > 1;
  // The router's own new connections that mwan gives a link: those about to leave by a link that
  // is down (failover), or by any link (balance). They are rerouted by the output chain's mark.
  const diverted = model.routerTraffic === 'balance' ? model.links : model.routerTraffic === 'failover' ? model.links.filter((l) => !active.has(l.name)) : [];
  const output = model.inbound || model.routerTraffic !== 'off';

  add(0, `table ${table}`);
  add(0, `delete table ${table}`);
  add(0, `table ${table} {`);

  for (const link of model.links) {
    add(1, `counter ${identifier(counterName(link))} {`);
    add(2, comment(`link ${link.name}`));
    add(1, '}');
  }

  // LAN interfaces by plain comparison, one rule each: a set lookup can miss for a packet in
  // flight during a reload (see below), and a LAN packet taken for a foreign one would skip the
  // restore or the balancing. `goto`: a LAN packet is done with this chain after `lan`.
  // A new connection that arrives on a link takes that link (ct mark only: the packet itself goes
  // where the main table or a DNAT sends it); replies restore it in `lan` or `output`.
  chain('prerouting', [
    'type filter hook prerouting priority mangle; policy accept;',
    ...model.lan.map((lan) => `iifname ${quote(lan)} goto lan`),
    ...(model.inbound
      ? [
          'ct state != new return',
          'meta nfproto != ipv4 return',
          ...model.links.map((l) => `iifname ${quote(l.interface)} ct mark ${masked} == 0x0 ${setBits('ct', l.mark)} ${comment(`inbound on link ${l.name}`)}`),
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
  const choose = [
    `${selectorVerdict(selector)} ${strategyComment}`,
    ...(lookups ? [`goto ${identifier(pickChain(first))} ${comment('a connection that met a reload')}`] : []),
  ];

  // Marks are chosen once per connection (ct mark's bits 0) and restored on every later packet,
  // so a connection keeps its link across reloads; unreplied UDP/TCP retries are still "new" to
  // conntrack and must not be balanced a second time.
  chain('lan', [
    'meta nfproto != ipv4 return',
    ...restore,
    'ct state != new return',
    'fib daddr type { local, broadcast, multicast } return',
    ...choose,
  ]);

  if (output) {
    // The router's own packets: replies to inbound connections and its own connections that mwan
    // gave a link get their mark back, and the route hook sends them again through the link's
    // table. A socket that sets its own mark (SO_MARK: WireGuard, mwan's probes) is left alone.
    chain('output', [
      'type route hook output priority mangle; policy accept;',
      'meta nfproto != ipv4 return',
      `meta mark != 0x0 return ${comment('a socket that sets its own mark')}`,
      ...restore,
      ...(diverted.length
        ? [
            'ct state != new return',
            ...diverted.map((l) => `oifname ${quote(l.interface)} goto balance ${comment(model.routerTraffic === 'balance' ? `router connection on link ${l.name}` : `router connection on down link ${l.name}`)}`),
          ]
        : []),
    ]);
    if (diverted.length) chain('balance', choose);
  }

  chain('missed_restore', model.links.map((l) => `ct mark ${masked} == ${hex(l.mark)} goto ${restoreChain(l)}`));
  for (const link of model.links) chain(restoreChain(link), [setBits('meta', link.mark)]);
  for (const link of picked) {
    chain(identifier(pickChain(link)), [setBits('meta', link.mark), `${setBits('ct', link.mark)} counter name ${quote(counterName(link))}`]);
  }

  const natted = model.links.filter((l) => l.snat.kind !== 'none');
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
      `meta mark ${masked} == 0x0 fib saddr type local return ${comment('router connection on its usual route')}`,
      `oifname vmap { ${natted.map((l) => `${quote(l.interface)} : goto ${snatChain(l)}`).join(', ')} }`,
      ...natted.map((l) => `oifname ${quote(l.interface)} goto ${snatChain(l)}`),
    ]);
    for (const link of natted) chain(snatChain(link), [snatStatement(link) as string]);
  }
  add(0, '}');
  return `${lines.join('\n')}\n`;
}

/** Named counters share the table's namespace with nothing else; a leading digit gets a prefix. */
export function counterName(link: Pick<LinkModel, 'name'>): string {
  return link.name.replace(/^(\d)/, 'l$1');
}
