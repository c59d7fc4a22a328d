import { MwanError } from './errors.js';
import type { BucketLink } from './hash-buckets.js';
import type { LinkModel, Model } from './model.js';
import type { Family, StrategyLink } from './nft-builder.js';
import { renderNft } from './render-nft.js';
import { ruleLinks, stickySets, type RuleKind, type RulePlan, type StickySet } from './render-rules.js';
import { renderRoutes, renderRules, renderSysctls, routeArgs, ruleArgs, sysctlName, type RouteSpec, type RuleSpec, type SysctlSpec } from './render-ip.js';
import { runStrategy, strategyOptions, type Strategy } from './strategy.js';

/** Everything the router should have: pure data, applied elsewhere. */
export interface Rendered {
  nft: string;
  routes: RouteSpec[];
  rules: RuleSpec[];
  sysctls: SysctlSpec[];
  /** Links the strategy chose among. */
  active: string[];
  /** Links the strategy chose among for IPv6 connections (empty: no link carries IPv6). */
  active6: string[];
  /** What each policy rule (config `rules`) does now, in config order. */
  policy: RuleState[];
  /** The sticky rules' sets: an apply carries their sources into the new table. */
  sticky: StickySet[];
}

export interface RuleState {
  name: string;
  kind: RuleKind;
  /** The links it balances over now (none when it refuses or excludes). */
  links: string[];
  strategy?: string;
  sticky?: number;
}

export interface RenderOptions {
  /** Names of the links new connections may use (health checks); default all. Never empty. */
  active?: readonly string[];
  /**
   * Names of the links new IPv6 connections may use (a link is judged per family); default the
   * IPv6 links among `active`, or all IPv6 links when none of them is.
   */
  active6?: readonly string[];
  /**
   * Links whose health checks pass (`mwan watch`); a rule's own links are chosen among them.
   * Default: all.
   */
  healthy?: readonly string[];
  /** The rules' strategies by name (a rule without one uses the global strategy). */
  strategies?: ReadonlyMap<string, Strategy<unknown>>;
}

/** The links a strategy chooses among for one family: those allowed (all when none is) that carry it. */
export function strategyLinks(model: Model, active?: readonly string[], family: Family = 'ipv4'): StrategyLink[] {
  const carrying = model.links.filter((l) => family === 'ipv4' || l.ipv6 !== undefined);
  const allowed = active && active.length && carrying.some((l) => active.includes(l.name)) ? new Set(active) : undefined;
  return carrying.filter((l) => !allowed || allowed.has(l.name)).map((l) => toStrategyLink(l, family));
}

const toStrategyLink = (l: LinkModel, family: Family = 'ipv4'): StrategyLink => Object.freeze({ name: l.name, mark: l.mark, weight: l.weight, interface: l.interface, family });

export function render<O>(model: Model, strategy: Strategy<O>, options: RenderOptions = {}): Rendered {
  const links = strategyLinks(model, options.active);
  // Hashing spreads its buckets over every configured link of the family, up or not.
  const configured = (family: Family) =>
    (model.configuredLinks ?? model.links.map((l) => ({ name: l.name, weight: l.weight, priority: l.priority, ipv6: l.ipv6 !== undefined })))
      .filter((l) => family === 'ipv4' || l.ipv6)
      .map(({ name, weight, priority }) => ({ name, weight, priority }));
  const selector = runStrategy(strategy, links, model.strategy.options, configured('ipv4'));
  // The same strategy, once more for IPv6 connections, over the links that carry IPv6.
  const links6 = strategyLinks(model, options.active6 ?? options.active, 'ipv6');
  const ipv6 = links6.length ? { selector: runStrategy(strategy, links6, model.strategy.options, configured('ipv6')), active: links6.map((l) => l.name) } : undefined;
  const plans = planRules(model, strategy, links, configured('ipv4'), options);
  return {
    nft: renderNft(model, selector, strategy.name, { active: links.map((l) => l.name), ...(ipv6 ? { ipv6 } : {}), rules: plans }),
    routes: renderRoutes(model),
    rules: renderRules(model),
    sysctls: renderSysctls(model),
    active: links.map((l) => l.name),
    active6: links6.map((l) => l.name),
    policy: plans.map((p) => ({
      name: p.rule.name, kind: p.kind, links: p.links.map((l) => l.name),
      ...(p.strategy !== undefined ? { strategy: p.strategy } : {}),
      ...(p.rule.sticky !== undefined ? { sticky: p.rule.sticky } : {}),
    })),
    sticky: stickySets(plans),
  };
}

/**
 * Each rule's links now (ruleLinks) and the selector its strategy makes over them (IPv4: rules
 * decide IPv4 connections). A hashing strategy spreads its buckets over the configured links the
 * rule may use, so a rule's clients move only when their own link goes. A rule's strategy options
 * are checked even while the rule refuses or excludes; a problem names the rule.
 */
function planRules(model: Model, global: Strategy<unknown>, active: readonly StrategyLink[], configured: readonly BucketLink[], options: RenderOptions): RulePlan[] {
  const healthy = options.healthy ? new Set(options.healthy) : undefined;
  return (model.rules ?? []).map((rule, i): RulePlan => {
    const own = rule.strategy;
    const strategy = own ? options.strategies?.get(own.name) : global;
    if (!strategy) throw new Error(`rules[${i}]: strategy "${own?.name}" was not loaded`);
    const strategyOptionsOf = own ? own.options : model.strategy.options;
    const blame = (error: unknown): never => {
      if (error instanceof MwanError) throw new MwanError(error.code, error.problems.map((p) => `rules[${i}]: ${p}`), { cause: error });
      throw error;
    };
    const { kind, links } = ruleLinks(model, rule, active, healthy, (l) => toStrategyLink(l));
    if (!links.length) {
      try {
        strategyOptions(strategy, strategyOptionsOf);
      } catch (error) {
        blame(error);
      }
      return { rule, kind, links };
    }
    const ownLinks = rule.links;
    const buckets = kind === 'links' && ownLinks ? configured.filter((l) => ownLinks.includes(l.name))
      : kind === 'fallback' && ownLinks ? configured.filter((l) => !ownLinks.includes(l.name))
        : configured;
    let selector;
    try {
      selector = runStrategy(strategy, links, strategyOptionsOf, buckets.some((b) => links.some((l) => l.name === b.name)) ? buckets : undefined);
    } catch (error) {
      blame(error);
    }
    return { rule, kind, links, selector, strategy: strategy.name };
  });
}

/** The iproute2 side as the commands that would create it, for `mwan render`. */
export function renderIpCommands(rendered: Pick<Rendered, 'routes' | 'rules' | 'sysctls'>): string {
  const lines = [
    // A learned gateway is only known at apply, from the kernel.
    ...rendered.routes.map((r) => (r.gateway === 'auto'
      ? `ip ${routeArgs('replace', { ...(r.family ? { family: r.family } : {}), table: r.table, dev: r.dev }).join(' ').replace(' dev ', ' via GATEWAY dev ')}  # GATEWAY: learned from ${r.dev} at apply`
      : `ip ${routeArgs('replace', r).join(' ')}`)),
    ...rendered.rules.map((r) => `ip ${ruleArgs('add', r).join(' ')}`),
    ...rendered.sysctls.map((s) => `sysctl -w ${sysctlName(s.path)}=${s.value}${sysctlCondition(s)}`),
  ];
  return `${lines.join('\n')}\n`;
}

function sysctlCondition(spec: SysctlSpec): string {
  if (spec.onlyIfMax !== undefined) {
    return `  # only if max(${sysctlName(spec.onlyIfMax.path)}, this) is now ${spec.onlyIfMax.value}`;
  }
  return spec.onlyIf !== undefined ? `  # only if now ${spec.onlyIf}` : '';
}
