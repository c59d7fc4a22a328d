import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { hex, MwanError, RP_FILTER_ALL, type RouteSpec, type RuleSpec, type SysctlSpec } from '@mwan/core';
import {
  ownedByMwan, routeEntryFromKernel, routeEntryFromSpec, routeTable, ruleEntryFromKernel, ruleEntryFromSpec, type KernelRoute, type KernelRule,
} from '@mwan/iproute2';
import { decide, sysctlPathsOf, type Decision, type DesiredState, type History, type Observed } from './decide.js';
import { fingerprintListed, fingerprintRendered } from './nft-fingerprint.js';
import type { LinkState, MwanState, SysctlChange } from './state-file.js';

/** Everything the kernel has, of which `observe` reads what `decide` looks at. */
interface World {
  table: string | null;
  rules: KernelRule[];
  routes: KernelRoute[];
  sysctls: Map<string, string>;
}

interface Scenario {
  desired: DesiredState & { links: LinkState[] };
  world: World;
  history: History;
}

const MWAN = '109';
const KERNEL_RULES: KernelRule[] = [
  { priority: 0, src: 'all', table: '255' },
  { priority: 32766, src: 'all', table: '254' },
  { priority: 32767, src: 'all', table: '253' },
];
// The kernel lists the table, not what was loaded: the two fingerprints differ.
const listing = (nft: string) => `${nft}\n\t\tcounter packets 0 bytes 0`;
const OLD_NFT = 'table inet mwan { v0 }';
const rpFilter = (iface: string) => `net/ipv4/conf/${iface}/rp_filter`;

// As `ip -N -json` lists what the spec's command adds.
function kernelRule(spec: RuleSpec, protocol: string | undefined = MWAN): KernelRule {
  return {
    priority: spec.pref, src: 'all',
    ...(spec.iif !== undefined ? { iif: spec.iif } : {}),
    ...(spec.fwmark !== undefined ? { fwmark: hex(spec.fwmark) } : {}),
    ...(spec.fwmask !== undefined && spec.fwmask !== 0xffffffff ? { fwmask: hex(spec.fwmask) } : {}),
    table: spec.table === 'main' ? '254' : String(spec.table),
    ...(spec.suppressPrefixlength !== undefined ? { suppress_prefixlen: spec.suppressPrefixlength } : {}),
    ...(protocol !== undefined ? { protocol } : {}),
    ...(spec.family ? { family: spec.family } : {}),
  };
}

function kernelRoute(spec: RouteSpec, protocol = MWAN): KernelRoute {
  return {
    dst: 'default', ...(spec.gateway !== undefined ? { gateway: spec.gateway } : {}), dev: spec.dev, table: String(spec.table), protocol,
    // The kernel gives an IPv6 route added without a metric 1024.
    ...(spec.family === 'inet6' ? { family: 'inet6' as const, metric: 1024 } : {}),
  };
}

function observe(world: World, desired: DesiredState, history: History): Observed {
  const owned = { ownedRules: world.rules.filter(ownedByMwan), ownedRoutes: world.routes.filter(ownedByMwan) };
  return {
    table: world.table,
    tableWithoutLive: world.table,
    ip: { rules: world.rules, routes: world.routes, ...owned },
    sysctls: new Map(sysctlPathsOf(desired, history).map((path) => [path, world.sysctls.get(path)])),
  };
}

const same = (a: readonly string[], b: readonly string[]) => a.join(' ') === b.join(' ');

/**
 * The kernel after the decision's commands, in the apply's order, and the state file an apply
 * writes: what the next decide starts from. `ip route replace` overwrites its slot, whoever owns it.
 */
function simulate(s: Scenario, d: Decision): { world: World; history: History } {
  const rules = [...s.world.rules];
  const routes = [...s.world.routes];
  const addable = new Map(s.desired.rendered.rules.map((spec) => [ruleEntryFromSpec(spec).key, kernelRule(spec)]));
  const replaceable = new Map(s.desired.rendered.routes.map((spec) => [routeEntryFromSpec(spec).key, kernelRoute(spec)]));
  const take = <T>(list: T[], found: (item: T) => boolean, what: string) => {
    const index = list.findIndex(found);
    if (index < 0) throw new Error(`no such ${what}`);
    list.splice(index, 1);
  };
  for (const entry of d.ip.routes.replace) {
    const route = replaceable.get(entry.key);
    if (!route) throw new Error(`replace of an undesired route ${entry.key}`);
    const slot = routes.findIndex((r) => routeEntryFromKernel(r).slot === entry.slot);
    if (slot >= 0) routes[slot] = route;
    else routes.push(route);
  }
  for (const entry of d.ip.rules.add) {
    const rule = addable.get(entry.key);
    if (!rule) throw new Error(`add of an undesired rule ${entry.key}`);
    const after = rules.findIndex((r) => r.priority > rule.priority);
    rules.splice(after < 0 ? rules.length : after, 0, rule);
  }
  const table = d.reloadNft ? listing(s.desired.rendered.nft) : s.world.table;
  for (const entry of d.ip.rules.remove) take(rules, (r) => same(ruleEntryFromKernel(r).del, entry.del), 'rule');
  for (const entry of d.ip.routes.remove) take(routes, (r) => same(routeEntryFromKernel(r).del, entry.del), 'route');
  const sysctls = new Map(s.world.sysctls);
  for (const write of d.sysctls.writes) sysctls.set(write.path, write.value);
  const previous: MwanState = {
    version: 1, applied: '2026-01-01T00:00:00.000Z', pid: 1, config: '/etc/mwan/config.json', strategy: 'weighted',
    links: s.desired.links, sysctls: d.sysctls.records,
    nft: { rendered: fingerprintRendered(s.desired.rendered.nft), listed: table === null ? '' : fingerprintListed(table) },
  };
  return { world: { table, rules, routes, sysctls }, history: { previous, journal: null } };
}

const nothingToDo = (d: Decision) => ({
  rulesAdd: d.ip.rules.add, rulesRemove: d.ip.rules.remove, routesReplace: d.ip.routes.replace, routesRemove: d.ip.routes.remove,
  reloadNft: d.reloadNft, flushMarks: d.flushMarks, sysctlWrites: d.sysctls.writes,
});
const EMPTY = { rulesAdd: [], rulesRemove: [], routesReplace: [], routesRemove: [], reloadNft: false, flushMarks: [], sysctlWrites: [] };

// Links eth1..eth6 with table 100N and one of marks 1..8; isp7's table is one no link has.
const IDS = [1, 2, 3, 4, 5, 6];
const gateway = (id: number, g: number) => `10.37.${id}.${g}`;
const value = fc.constantFrom('0', '1', '2');

const desiredLinks = fc.uniqueArray(fc.constantFrom(...IDS), { minLength: 1, maxLength: 4 }).chain((ids) => fc.record({
  ids: fc.constant(ids),
  marks: fc.shuffledSubarray([1, 2, 3, 4, 5, 6, 7, 8], { minLength: ids.length, maxLength: ids.length }),
  gateways: fc.array(fc.constantFrom(1, 2), { minLength: ids.length, maxLength: ids.length }),
  ipv6: fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length }),
  rp: fc.array(fc.constantFrom<'max' | 'if' | 'always'>('max', 'if', 'always'), { minLength: ids.length, maxLength: ids.length }),
  forward: fc.boolean(),
  nft: fc.constantFrom('table inet mwan { v1 }', 'table inet mwan { v2 }'),
}));

interface LinkChoices {
  ids: number[];
  marks: number[];
  gateways: number[];
  ipv6: boolean[];
  rp: ('max' | 'if' | 'always')[];
  forward: boolean;
  nft: string;
}

/** Rendered as mwan renders it: suppress rules, a mark rule and a default route per link and family, sysctls. */
function desiredFrom({ ids, marks, gateways, ipv6, rp, forward, nft }: LinkChoices): Scenario['desired'] {
  const links: LinkState[] = ids.map((id, i) => ({ name: `isp${id}`, interface: `eth${id}`, mark: marks[i], table: 1000 + id, weight: 1, gateway: gateway(id, gateways[i]) }));
  const families = (i: number) => (ipv6[i] ? [undefined, 'inet6' as const] : [undefined]);
  const rules: RuleSpec[] = [
    ...['eth0', 'lo'].map((iif) => ({ pref: 31000, iif, table: 'main' as const, suppressPrefixlength: 0 })),
    ...links.flatMap((l, i) => families(i).map((family) => ({ ...(family ? { family } : {}), pref: 31001, fwmark: l.mark, fwmask: 0xff, table: l.table }))),
  ];
  const routes: RouteSpec[] = links.flatMap((l, i) => families(i).map((family) => (family
    ? { family, table: l.table, dev: l.interface, gateway: 'fe80::1' }
    : { table: l.table, dev: l.interface, gateway: l.gateway }
  )));
  const condition = (kind: 'max' | 'if' | 'always') => (kind === 'max' ? { onlyIfMax: { path: RP_FILTER_ALL, value: '1' } } : kind === 'if' ? { onlyIf: '1' } : {});
  const sysctls: SysctlSpec[] = [
    ...(forward ? [{ path: 'net/ipv4/ip_forward', value: '1', why: 'route' }] : []),
    ...links.map((l, i) => ({ path: rpFilter(l.interface), value: '2', ...condition(rp[i]), why: 'replies' })),
  ];
  return { links, model: { links }, rendered: { nft, rules, routes, sysctls } };
}
const desiredArb = desiredLinks.map(desiredFrom);

/** A rule or route of mwan's nobody wants any more, or of someone else's (another protocol). */
const strayRule = fc.record({
  pref: fc.constantFrom(31000, 31001, 31002), fwmark: fc.integer({ min: 1, max: 8 }), id: fc.constantFrom(...IDS, 7), v6: fc.boolean(),
}).map(({ pref, fwmark, id, v6 }): RuleSpec => ({ ...(v6 ? { family: 'inet6' as const } : {}), pref, fwmark, fwmask: 0xff, table: 1000 + id }));
const strayRoute = fc.record({
  id: fc.constantFrom(...IDS, 7), g: fc.constantFrom(1, 2, 3), dst: fc.constantFrom('default', '10.9.0.0/16'), metric: fc.constantFrom(0, 5),
}).map(({ id, g, dst, metric }): KernelRoute => ({ dst, gateway: gateway(id, g), dev: `eth${id}`, table: String(1000 + id), ...(metric ? { metric } : {}) }));
const FOREIGN_RULE_PROTO = fc.constantFrom(undefined, '3', '4', '16');
const FOREIGN_PROTO = fc.constantFrom('3', '4', '16');

/**
 * A kernel somewhere around the desired state: each wanted rule there 0-2 times, each wanted
 * route missing, there or by another gateway, stray rules and routes of mwan's and of others
 * (others' routes in a link's table only with `foreignInLinkTables`), any sysctl values, and
 * a history that may match or not.
 */
function scenario(options: { foreignInLinkTables: boolean }): fc.Arbitrary<Scenario> {
  return desiredArb.chain((desired) => {
    const linkTables = new Set(desired.links.map((l) => String(l.table)));
    const { rules, routes, sysctls } = desired.rendered;
    const paths = [...sysctls.map((s) => s.path), 'net/ipv4/ip_forward', RP_FILTER_ALL, ...IDS.map((id) => rpFilter(`eth${id}`))];
    // The condition's other path is never one mwan sets: setting it would change the condition.
    const recordable = paths.filter((p) => p !== RP_FILTER_ALL);
    const records = fc.uniqueArray(fc.record({ path: fc.constantFrom(...recordable), value, previous: value }), { selector: (r) => r.path, maxLength: 4 });
    return fc.record({
      copies: fc.array(fc.constantFrom(0, 1, 1, 2), { minLength: rules.length, maxLength: rules.length }),
      routeStates: fc.array(fc.constantFrom('missing', 'there', 'there', 'changed'), { minLength: routes.length, maxLength: routes.length }),
      staleRules: fc.array(strayRule, { maxLength: 3 }),
      staleRoutes: fc.array(strayRoute, { maxLength: 3 }),
      foreignRules: fc.array(fc.tuple(strayRule, FOREIGN_RULE_PROTO), { maxLength: 3 }),
      foreignRoutes: fc.array(fc.tuple(strayRoute, FOREIGN_PROTO), { maxLength: 3 }),
      values: fc.array(fc.option(value, { freq: 8 }), { minLength: paths.length, maxLength: paths.length }),
      table: fc.constantFrom(null, 'stale', 'desired'),
      previous: fc.option(fc.record({ rendered: fc.boolean(), listed: fc.boolean(), records, down: fc.boolean() })),
      journal: fc.option(fc.record({ records, holders: fc.array(fc.record({ mark: fc.integer({ min: 1, max: 8 }), id: fc.constantFrom(...IDS) }), { maxLength: 2 }) })),
    }).map((g): Scenario => {
      const ruleList = [
        ...KERNEL_RULES,
        ...rules.flatMap((spec, i) => Array.from({ length: g.copies[i] }, () => kernelRule(spec))),
        ...g.staleRules.map((spec) => kernelRule(spec)),
        ...g.foreignRules.map(([spec, protocol]) => kernelRule(spec, protocol)),
      ];
      const routeList = [
        ...routes.flatMap((spec, i) => {
          const state = g.routeStates[i];
          if (state === 'missing') return [];
          return [kernelRoute(state === 'changed' && spec.family !== 'inet6' ? { ...spec, gateway: `${spec.gateway}0` } : spec)];
        }),
        ...g.staleRoutes.map((r) => ({ ...r, protocol: MWAN })),
        ...g.foreignRoutes
          .map(([r, protocol]) => ({ ...r, protocol }))
          .filter((r) => options.foreignInLinkTables || !linkTables.has(routeTable(r))),
      ];
      // One route per slot, as `ip route replace` leaves it.
      const seen = new Set<string>();
      const uniqueRoutes = routeList.filter((r) => {
        const slot = routeEntryFromKernel(r).slot;
        return seen.has(slot) ? false : (seen.add(slot), true);
      });
      const values = new Map<string, string>();
      paths.forEach((p, i) => {
        const v = g.values[i];
        if (v !== null && !values.has(p)) values.set(p, v);
      });
      const table = g.table === null ? null : listing(g.table === 'desired' ? desired.rendered.nft : OLD_NFT);
      const previous: MwanState | null = g.previous && {
        version: 1, applied: '2026-01-01T00:00:00.000Z', pid: 1, config: '/etc/mwan/config.json', strategy: 'weighted',
        links: desired.links.map((l) => (g.previous?.down && l === desired.links[0] ? { ...l, down: { reason: 'absent', detail: 'gone' } } : l)),
        sysctls: g.previous.records,
        // What the last apply loaded, and the table as it listed it then (or changed since).
        nft: {
          rendered: fingerprintRendered(g.previous.rendered ? desired.rendered.nft : OLD_NFT),
          listed: g.previous.listed ? fingerprintListed(listing(g.previous.rendered ? desired.rendered.nft : OLD_NFT)) : 'other',
        },
      };
      const journal = g.journal && {
        version: 1 as const, pid: 2, started: '2026-01-01T00:00:00.000Z', step: 'nft', snapshot: { nft: null, rules: [], routes: [] },
        pendingSysctls: g.journal.records,
        links: g.journal.holders.map(({ mark, id }) => ({ name: `isp${id}`, interface: `eth${id}`, mark, table: 1000 + id, weight: 1 })),
      };
      return { desired, world: { table, rules: ruleList, routes: uniqueRoutes, sysctls: values }, history: { previous, journal } };
    });
  });
}

/** The router exactly as desired, as a completed apply leaves it, with others' routes in the main table. */
function settledFrom(desired: Scenario['desired'], foreign: readonly KernelRoute[] = []): Scenario {
  const table = listing(desired.rendered.nft);
  return {
    desired,
    world: {
      table,
      rules: [...KERNEL_RULES, ...desired.rendered.rules.map((spec) => kernelRule(spec))],
      routes: [...desired.rendered.routes.map((spec) => kernelRoute(spec)), ...foreign.map(({ table: _table, ...r }) => r)],
      sysctls: new Map(desired.rendered.sysctls.map((s) => [s.path, s.value])),
    },
    history: {
      previous: {
        version: 1, applied: '2026-01-01T00:00:00.000Z', pid: 1, config: '/etc/mwan/config.json', strategy: 'weighted', links: desired.links,
        sysctls: desired.rendered.sysctls.map((s) => ({ path: s.path, value: s.value, previous: '0' })),
        nft: { rendered: fingerprintRendered(desired.rendered.nft), listed: fingerprintListed(table) },
      },
      journal: null,
    },
  };
}
const settled = fc.tuple(desiredArb, fc.array(fc.tuple(strayRoute, FOREIGN_PROTO), { maxLength: 3 }))
  .map(([desired, foreign]) => settledFrom(desired, foreign.map(([r, protocol]) => ({ ...r, protocol }))));

const decideIn = (s: Scenario, options = {}) => decide(s.desired, observe(s.world, s.desired, s.history), s.history, options);

describe('decide', () => {
  it('converges: its actions make the kernel as desired, and then it decides nothing more', () => {
    fc.assert(fc.property(scenario({ foreignInLinkTables: false }), (s) => {
      const after = simulate(s, decideIn(s));
      const sorted = (keys: string[]) => keys.sort();
      expect({
        table: after.world.table,
        rules: sorted(after.world.rules.filter(ownedByMwan).map((r) => ruleEntryFromKernel(r).key)),
        routes: sorted(after.world.routes.filter(ownedByMwan).map((r) => routeEntryFromKernel(r).key)),
      }).toEqual({
        table: listing(s.desired.rendered.nft),
        rules: sorted(s.desired.rendered.rules.map((r) => ruleEntryFromSpec(r).key)),
        routes: sorted(s.desired.rendered.routes.map((r) => routeEntryFromSpec(r).key)),
      });
      expect(nothingToDo(decideIn({ ...s, ...after }))).toEqual(EMPTY);
    }), { numRuns: 500 });
  });

  it('decides nothing for a router that is as desired', () => {
    fc.assert(fc.property(settled, (s) => {
      expect(nothingToDo(decideIn(s))).toEqual(EMPTY);
    }), { numRuns: 200 });
  });

  it('never removes or replaces a rule or route of another protocol: a link table holding one is refused', () => {
    fc.assert(fc.property(scenario({ foreignInLinkTables: true }), (s) => {
      const foreignRules = s.world.rules.filter((r) => !ownedByMwan(r) && !KERNEL_RULES.includes(r));
      const foreignRoutes = s.world.routes.filter((r) => !ownedByMwan(r));
      const linkTables = new Set(s.desired.links.map((l) => String(l.table)));
      const occupied = foreignRoutes.filter((r) => linkTables.has(routeTable(r)));
      if (occupied.length) {
        expect(() => decideIn(s)).toThrow(MwanError);
        expect(() => decideIn(s)).toThrow(`routing table ${occupied[0].table} holds routes mwan did not create`);
        return;
      }
      const { world } = simulate(s, decideIn(s));
      for (const rule of [...KERNEL_RULES, ...foreignRules]) expect(world.rules).toContain(rule);
      for (const route of foreignRoutes) expect(world.routes).toContain(route);
    }), { numRuns: 500 });
  });

  it('leaves each wanted rule exactly as often as wanted: duplicates go, missing ones come', () => {
    fc.assert(fc.property(scenario({ foreignInLinkTables: false }), (s) => {
      const d = decideIn(s);
      const count = (keys: readonly string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
      const owned = count(s.world.rules.filter(ownedByMwan).map((r) => ruleEntryFromKernel(r).key));
      const wanted = count(s.desired.rendered.rules.map((r) => ruleEntryFromSpec(r).key));
      const removed = count(d.ip.rules.remove.map((r) => r.key));
      const added = count(d.ip.rules.add.map((r) => r.key));
      for (const key of new Set([...owned.keys(), ...wanted.keys()])) {
        expect({ key, after: (owned.get(key) ?? 0) - (removed.get(key) ?? 0) + (added.get(key) ?? 0) }).toEqual({ key, after: wanted.get(key) ?? 0 });
        // Nothing is both removed and added: an owned copy is kept rather than replaced.
        expect(Math.min(removed.get(key) ?? 0, added.get(key) ?? 0)).toBe(0);
      }
    }), { numRuns: 500 });
  });

  it('writes a conditional sysctl only when its condition holds, and puts back only values nobody changed since', () => {
    fc.assert(fc.property(scenario({ foreignInLinkTables: false }), (s) => {
      const observed = observe(s.world, s.desired, s.history);
      const now = (path: string) => observed.sysctls.get(path);
      const recorded = new Map<string, SysctlChange>();
      for (const r of [...(s.history.previous?.sysctls ?? []), ...(s.history.journal?.pendingSysctls ?? [])]) if (!recorded.has(r.path)) recorded.set(r.path, r);
      const specs = new Map(s.desired.rendered.sysctls.map((spec) => [spec.path, spec]));
      const holds = (spec: SysctlSpec, current: string) =>
        (spec.onlyIf === undefined || current === spec.onlyIf)
        && (spec.onlyIfMax === undefined || String(Math.max(Number(current), Number(now(spec.onlyIfMax.path) ?? '0'))) === spec.onlyIfMax.value);
      // Exactly these writes, in order: the wanted values whose condition holds, then what to put back.
      const expected = [
        ...[...specs.values()].flatMap((spec) => {
          const current = now(spec.path);
          return current !== undefined && current !== spec.value && holds(spec, current) ? [{ path: spec.path, value: spec.value, before: current }] : [];
        }),
        ...[...recorded.values()].flatMap((r) => (!specs.has(r.path) && now(r.path) === r.value ? [{ path: r.path, value: r.previous, before: r.value }] : [])),
      ];
      expect(decideIn(s).sysctls.writes).toEqual(expected);
    }), { numRuns: 500 });
  });
});

describe('decide: named drifts', () => {
  // isp1 on eth1 (IPv4), isp2 on eth2 (IPv4 and IPv6), both relaxing rp_filter when it is strict.
  const router = () => settledFrom(desiredFrom({
    ids: [1, 2], marks: [1, 2], gateways: [1, 1], ipv6: [false, true], rp: ['max', 'max'], forward: true, nft: 'table inet mwan { v1 }',
  }), [{ dst: 'default', gateway: '192.0.2.1', dev: 'eth9', protocol: '16' }]);

  it('as desired: nothing to do', () => {
    expect(nothingToDo(decideIn(router()))).toEqual(EMPTY);
  });

  it('the table flushed (nft flush ruleset): reloads it, nothing else', () => {
    const s = router();
    expect(nothingToDo(decideIn({ ...s, world: { ...s.world, table: null } }))).toEqual({ ...EMPTY, reloadNft: true });
  });

  it('the table changed by someone: reloads it', () => {
    const s = router();
    const table = `${s.world.table}\n\t\tcounter packets 1 bytes 1 drop`;
    expect(nothingToDo(decideIn({ ...s, world: { ...s.world, table } }))).toEqual({ ...EMPTY, reloadNft: true });
  });

  it('a route gone after a bounce: replaces that route', () => {
    const s = router();
    const routes = s.world.routes.filter((r) => r.table !== '1002' || r.family === 'inet6');
    const d = decideIn({ ...s, world: { ...s.world, routes } });
    expect(d.ip.routes.replace.map((r) => r.replace.join(' '))).toEqual(['route replace default via 10.37.2.1 dev eth2 table 1002 proto 109']);
    expect(nothingToDo(d)).toEqual({ ...EMPTY, routesReplace: d.ip.routes.replace });
  });

  it('a route whose gateway moved: replaces it', () => {
    const s = router();
    const routes = s.world.routes.map((r) => (r.table === '1001' ? { ...r, gateway: '10.37.1.9' } : r));
    const d = decideIn({ ...s, world: { ...s.world, routes } });
    expect(d.ip.routes.replace.map((r) => r.replace.join(' '))).toEqual(['route replace default via 10.37.1.1 dev eth1 table 1001 proto 109']);
    expect(d.ip.routes.remove).toEqual([]);
  });

  it('a rule deleted: adds it back, and deletes no connections', () => {
    const s = router();
    const rules = s.world.rules.filter((r) => !(r.fwmark === '0x2' && r.family === undefined));
    const d = decideIn({ ...s, world: { ...s.world, rules } });
    expect(d.ip.rules.add.map((r) => r.add.join(' '))).toEqual(['rule add pref 31001 fwmark 0x2/0xff lookup 1002 proto 109']);
    expect(nothingToDo(d)).toEqual({ ...EMPTY, rulesAdd: d.ip.rules.add });
  });

  it('a sysctl reset to strict: relaxes it again', () => {
    const s = router();
    const sysctls = new Map(s.world.sysctls).set('net/ipv4/conf/eth1/rp_filter', '1');
    const d = decideIn({ ...s, world: { ...s.world, sysctls } });
    expect(nothingToDo(d)).toEqual({ ...EMPTY, sysctlWrites: [{ path: 'net/ipv4/conf/eth1/rp_filter', value: '2', before: '1' }] });
  });

  it('a link whose mark went to another interface: its connections are deleted, unless kept', () => {
    const s = router();
    const previous = s.history.previous as MwanState;
    const history = { previous: { ...previous, links: [{ ...previous.links[0], interface: 'eth9' }, previous.links[1]] }, journal: null };
    expect(decideIn({ ...s, history }).flushMarks).toEqual([1]);
    expect(decideIn({ ...s, history }, { keepConnections: true }).flushMarks).toEqual([]);
  });

  it('a sysctl it looks at must have been read', () => {
    const s = router();
    const observed = { ...observe(s.world, s.desired, s.history), sysctls: new Map() };
    expect(() => decide(s.desired, observed, s.history)).toThrow('was not read before deciding');
  });
});
