import type { LinkModel, Model } from './model.js';
import { pickChain, selectorVerdict, type Selector, type StrategyLink } from './nft-builder.js';
import { quote } from './nft-quote.js';
import { groupRules, ipv4Text, MATCH_KEYS, ruleElements, type MatchField, type RuleModel, type Span } from './rules.js';

/**
 * What each rule does now, given the links' health:
 * - `links`: balanced over the healthy links of its own (best tier among them);
 * - `global`: no links of its own, balanced over the links the global strategy uses;
 * - `fallback`: none of its links is healthy, `fallback: "any"`: over the other links in use;
 * - `refuse`: none of its links is healthy, `fallback: "none"`: refused at once;
 * - `exclude`: not balanced.
 */
export type RuleKind = 'links' | 'global' | 'fallback' | 'refuse' | 'exclude';

export interface RulePlan {
  rule: RuleModel;
  kind: RuleKind;
  /** The links its new connections are balanced over (none for refuse and exclude). */
  links: readonly StrategyLink[];
  /** What picks among `links` (absent for refuse and exclude). */
  selector?: Selector;
  /** The strategy that made `selector`. */
  strategy?: string;
}

/** The links a rule balances over now: see RuleKind. `active`: the links the global strategy uses. */
export function ruleLinks(
  model: Pick<Model, 'links'>,
  rule: RuleModel,
  active: readonly StrategyLink[],
  healthy: ReadonlySet<string> | undefined,
  toLink: (link: LinkModel) => StrategyLink,
): { kind: RuleKind; links: StrategyLink[] } {
  if (rule.exclude) return { kind: 'exclude', links: [] };
  const own = rule.links;
  if (!own) return { kind: 'global', links: [...active] };
  const up = model.links.filter((l) => own.includes(l.name) && (!healthy || healthy.has(l.name)));
  if (up.length) {
    const best = Math.min(...up.map((l) => l.priority));
    return { kind: 'links', links: up.filter((l) => l.priority === best).map(toLink) };
  }
  if (rule.fallback === 'none') return { kind: 'refuse', links: [] };
  const others = active.filter((l) => !own.includes(l.name));
  return { kind: 'fallback', links: others.length ? others : [...active] };
}

const MAX_COMMENT = 58;
/** `comment "mwan: …"`, shortened to what the renderer's quoting takes. */
export const ruleComment = (text: string): string => {
  const safe = text.replace(/,/g, ':').replace(/[^A-Za-z0-9_.@: -]/g, '_');
  return `comment ${quote(`mwan: ${safe.length > MAX_COMMENT ? `${safe.slice(0, MAX_COMMENT - 3)}...` : safe}`)}`;
};

/** Names of a rule's objects. Rule and link names are [a-z0-9_-]; a dot cannot be part of either. */
export const ruleChain = (rule: Pick<RuleModel, 'name'>): string => `rule_${rule.name}`;
export const ruleCounter = (rule: Pick<RuleModel, 'name'>): string => `rule.${rule.name}`;
export const stickySet = (rule: Pick<RuleModel, 'name'>, link: Pick<StrategyLink, 'name'>): string => `sticky.${rule.name}.${link.name}`;
export const STICKY_SET_PREFIX = 'sticky.';

/** Protocols nft names without /etc/protocols (a router may not have it); others are written as numbers. */
const NFT_PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 33: 'dccp', 50: 'esp', 51: 'ah', 132: 'sctp', 136: 'udplite' };

function addressText(span: Span): string {
  if (span.from === span.to) return ipv4Text(span.from);
  const size = span.to - span.from + 1;
  const bits = Math.log2(size);
  if (Number.isInteger(bits) && span.from % size === 0) return `${ipv4Text(span.from)}/${32 - bits}`;
  return `${ipv4Text(span.from)}-${ipv4Text(span.to)}`;
}

function valueText(field: MatchField, span: Span, lan: readonly string[]): string {
  switch (field) {
    case 'lan':
      return quote(lan[span.from]);
    case 'source':
    case 'destination':
      return addressText(span);
    case 'protocol':
      return NFT_PROTOCOL_NAMES[span.from] ?? String(span.from);
    default:
      return span.from === span.to ? String(span.from) : `${span.from}-${span.to}`;
  }
}

/** Rule names for a comment: as many as fit. */
function namesComment(rules: readonly RuleModel[]): string {
  if (rules.length === 1) return ruleComment(`rule ${rules[0].name}`);
  let text = `rules ${rules[0].name}`;
  let shown = 1;
  for (const rule of rules.slice(1)) {
    const more = ` ${rule.name}`;
    const tail = ` and ${rules.length - shown - 1} more`;
    if (`${text}${more}${shown + 1 < rules.length ? tail : ''}`.length > MAX_COMMENT) break;
    text += more;
    shown++;
  }
  if (shown < rules.length) text += ` and ${rules.length - shown} more`;
  return ruleComment(text);
}

/**
 * The `lan` chain's lines that send a new connection to its rule's chain: one verdict-map lookup
 * per group of rules (groupRules), in order; an empty match is a plain goto. `guard`: what limits
 * them to IPv4 when IPv6 connections come this way too (rules decide IPv4 connections).
 */
export function ruleDispatch(rules: readonly RuleModel[], lan: readonly string[], guard = ''): string[] {
  return groupRules(rules).map((group) => {
    const comment = namesComment(group.rules);
    if (!group.fields.length) return `${guard}goto ${ruleChain(group.rules[0])} ${comment}`;
    const key = group.fields.map((f) => MATCH_KEYS[f]).join(' . ');
    const elements = group.rules.flatMap((rule) => ruleElements(rule, group.fields).map((tuple) => {
      const value = tuple.map((span, i) => valueText(group.fields[i], span, lan)).join(' . ');
      return `${value} : goto ${ruleChain(rule)}`;
    }));
    return `${guard}${key} vmap { ${elements.join(', ')} } ${comment}`;
  });
}

// Comments take no commas: names are separated by spaces.
const describeLinks = (links: readonly StrategyLink[]) => links.map((l) => l.name).join(' ');

export interface RuleChains {
  /** Named counters, then sticky sets, declared at the top of the table. */
  declarations: string[][];
  /** Chains by name, in order, each a list of rules. */
  chains: [string, string[]][];
  /** Marks the rules can give (their pick chains must exist). */
  marks: number[];
}

/** A sticky rule's set of one link, with its timeout in seconds. */
export interface StickySet {
  name: string;
  seconds: number;
}

/** The links a balancing rule's selector can give (its sticky sets are theirs). */
const chosenLinks = (plan: RulePlan): StrategyLink[] => plan.links.filter((l) => plan.selector?.marks.includes(l.mark));

/** The sticky sets the rules declare now: one per sticky rule and link it can give. */
export function stickySets(plans: readonly RulePlan[]): StickySet[] {
  return plans.flatMap((plan) => (plan.rule.sticky === undefined || plan.kind === 'exclude' || plan.kind === 'refuse'
    ? []
    : chosenLinks(plan).map((link) => ({ name: stickySet(plan.rule, link), seconds: plan.rule.sticky as number }))));
}

/** Every rule's chain, and for a sticky rule its sets and the per-link chains that remember the source. */
export function ruleChains(plans: readonly RulePlan[]): RuleChains {
  const declarations: string[][] = [];
  const sets: string[][] = [];
  const chains: [string, string[]][] = [];
  const marks = new Set<number>();
  for (const plan of plans) {
    const { rule } = plan;
    declarations.push([`counter ${ruleCounter(rule)} {`, `\t${ruleComment(`rule ${rule.name}`)}`, '}']);
    const head = `counter name ${quote(ruleCounter(rule))} ${ruleComment(`rule ${rule.name}`)}`;
    if (plan.kind === 'exclude') {
      chains.push([ruleChain(rule), [head, `return ${ruleComment(`rule ${rule.name}: excluded, the main table routes it`)}`]]);
      continue;
    }
    if (plan.kind === 'refuse' || !plan.selector) {
      chains.push([ruleChain(rule), [
        head,
        `meta l4proto tcp reject with tcp reset ${ruleComment(`rule ${rule.name}: no link of its own is up`)}`,
        'reject with icmp admin-prohibited',
      ]]);
      continue;
    }
    const selector = plan.selector;
    selector.marks.forEach((m) => marks.add(m));
    const chosen = chosenLinks(plan);
    const sticky = rule.sticky;
    const chainOf = sticky === undefined ? pickChain : (link: StrategyLink) => stickySet(rule, link);
    const what = `${plan.kind === 'fallback' ? 'fallback, ' : ''}${plan.strategy ?? 'strategy'} over ${describeLinks(chosen)}`;
    const body = [
      head,
      ...(sticky === undefined ? [] : chosen.map((l) => `ip saddr @${stickySet(rule, l)} goto ${stickySet(rule, l)} ${ruleComment(`rule ${rule.name}: sticky to ${l.name}`)}`)),
      `${selectorVerdict(selector, chainOf)} ${ruleComment(`rule ${rule.name}: ${what}`)}`,
      // A lookup in flight during a reload can miss (see renderNft): such a connection still gets a link.
      ...(selector.marks.length > 1 ? [`goto ${chainOf(chosen[0])} ${ruleComment('a connection that met a reload')}`] : []),
    ];
    chains.push([ruleChain(rule), body]);
    if (sticky !== undefined) {
      for (const link of chosen) {
        sets.push([
          `set ${stickySet(rule, link)} {`,
          '\ttype ipv4_addr',
          '\tsize 65535',
          '\tflags dynamic,timeout',
          `\ttimeout ${sticky}s`,
          `\t${ruleComment(`rule ${rule.name}: sources on ${link.name}`)}`,
          '}',
        ]);
        // Each new connection of the source starts its time again.
        chains.push([stickySet(rule, link), [`update @${stickySet(rule, link)} { ip saddr } goto ${pickChain(link)}`]]);
      }
    }
  }
  return { declarations: [...declarations, ...sets], chains, marks: [...marks] };
}
