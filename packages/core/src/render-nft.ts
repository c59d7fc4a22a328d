import { NFT_FAMILY, NFT_TABLE } from './constants.js';
import type { LinkModel, Model } from './model.js';
import { hex, pickChain, type Selector } from './nft-builder.js';
import { identifier, ipv4, quote } from './nft-quote.js';

const T = '\t';

/** Per-link chain names are derived from link names, which the schema limits to [a-z0-9_-]. */
const snatChain = (link: LinkModel) => identifier(`snat_${link.name}`);

function snatStatement(link: LinkModel): string | undefined {
  const comment = `comment ${quote(`mwan: link ${link.name}`)}`;
  if (link.snat.kind === 'address') return `snat ip to ${ipv4(link.snat.address)} ${comment}`;
  if (link.snat.kind === 'masquerade') return `masquerade ${comment}`;
  return undefined;
}

/**
 * The whole table as one `nft -f` file: declare, delete, define. The kernel applies it in one
 * transaction whether or not the table existed, and nothing outside `inet mwan` is named.
 */
export function renderNft(model: Model, selector: Selector, strategyName: string): string {
  const table = `${NFT_FAMILY} ${NFT_TABLE}`;
  const lines: string[] = [];
  const add = (depth: number, text: string) => lines.push(T.repeat(depth) + text);

  add(0, `table ${table}`);
  add(0, `delete table ${table}`);
  add(0, `table ${table} {`);

  for (const link of model.links) {
    add(1, `counter ${identifier(counterName(link))} {`);
    add(2, `comment ${quote(`mwan: link ${link.name}`)}`);
    add(1, '}');
  }

  // LAN interfaces by plain comparison, one rule each: a set lookup can miss for a packet in
  // flight during a reload (see below), and a LAN packet taken for a foreign one would skip the
  // restore or the balancing.
  add(1, 'chain prerouting {');
  add(2, 'type filter hook prerouting priority mangle; policy accept;');
  for (const lan of model.lan) add(2, `iifname ${quote(lan)} jump lan`);
  add(1, '}');

  // Marks are chosen once per connection (ct mark 0) and restored on every later packet, so a
  // connection keeps its link across reloads; unreplied UDP/TCP retries are still "new" to
  // conntrack and must not be balanced a second time.
  add(1, 'chain lan {');
  add(2, 'meta nfproto != ipv4 return');
  add(2, `ct mark != 0x0 meta mark set ct mark return comment ${quote('mwan: restore the link of a connection')}`);
  add(2, 'ct state != new return');
  add(2, 'fib daddr type { local, broadcast, multicast } return');
  const strategyComment = `comment ${quote(`mwan: strategy ${strategyName.slice(0, 40).replace(/[^A-Za-z0-9_.@: -]/g, '_')}`)}`;
  add(2, `${selector.kind === 'verdict' ? selector.text : `meta mark set ${selector.text}`} ${strategyComment}`);
  // During a reload, a packet that entered the old table may look up the old table's map after
  // the commit has retired its elements: the lookup misses and no mark is set. Unmarked, the
  // connection would leave without NAT and its conntrack entry would stay stuck that way (every
  // retry reuses it). A constant needs no lookup, so such a connection still gets a link.
  if (selector.marks.length > 1 || selector.kind === 'verdict') {
    add(2, `meta mark 0x0 meta mark set ${hex(selector.marks[0])} comment ${quote('mwan: a connection that met a reload')}`);
  }
  const counters = model.links.map((l) => `${hex(l.mark)} : ${quote(counterName(l))}`).join(', ');
  add(2, `ct mark set meta mark counter name meta mark map { ${counters} }`);
  add(1, '}');

  if (selector.kind === 'verdict') {
    for (const link of model.links.filter((l) => selector.marks.includes(l.mark))) {
      add(1, `chain ${identifier(pickChain(link))} {`);
      add(2, `meta mark set ${hex(link.mark)}`);
      add(1, '}');
    }
  }

  const natted = model.links.filter((l) => l.snat.kind !== 'none');
  if (natted.length) {
    add(1, 'chain postrouting {');
    add(2, 'type nat hook postrouting priority srcnat; policy accept;');
    // One verdict-map lookup, whatever the number of links. A map of the old table can miss for a
    // packet in flight during a reload (see above), and a new connection that missed NAT would
    // keep a conntrack entry without it: one plain rule per link, reached only after such a
    // miss (or by traffic mwan does not NAT), catches it. Only a connection's first packet comes here.
    const entries = natted.map((l) => `${quote(l.interface)} . ${hex(l.mark)} : goto ${snatChain(l)}`).join(', ');
    add(2, `oifname . meta mark vmap { ${entries} }`);
    for (const link of natted) add(2, `oifname ${quote(link.interface)} meta mark ${hex(link.mark)} goto ${snatChain(link)}`);
    add(1, '}');
    for (const link of natted) {
      add(1, `chain ${snatChain(link)} {`);
      add(2, snatStatement(link) as string);
      add(1, '}');
    }
  }
  add(0, '}');
  return `${lines.join('\n')}\n`;
}

/** Named counters share the table's namespace with nothing else; a leading digit gets a prefix. */
export function counterName(link: Pick<LinkModel, 'name'>): string {
  return link.name.replace(/^(\d)/, 'l$1');
}
