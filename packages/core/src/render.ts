import type { Model } from './model.js';
import type { StrategyLink } from './nft-builder.js';
import { renderNft } from './render-nft.js';
import { renderRoutes, renderRules, renderSysctls, routeArgs, ruleArgs, sysctlName, type RouteSpec, type RuleSpec, type SysctlSpec } from './render-ip.js';
import { runStrategy, type Strategy } from './strategy.js';

/** Everything the router should have: pure data, applied elsewhere. */
export interface Rendered {
  nft: string;
  routes: RouteSpec[];
  rules: RuleSpec[];
  sysctls: SysctlSpec[];
  /** Links the strategy chose among. */
  active: string[];
}

export interface RenderOptions {
  /** Names of the links new connections may use (health checks); default all. Never empty. */
  active?: readonly string[];
}

export function strategyLinks(model: Model, active?: readonly string[]): StrategyLink[] {
  const allowed = active && active.length ? new Set(active) : undefined;
  return model.links
    .filter((l) => !allowed || allowed.has(l.name))
    .map((l) => Object.freeze({ name: l.name, mark: l.mark, weight: l.weight, interface: l.interface, family: 'ipv4' as const }));
}

export function render<O>(model: Model, strategy: Strategy<O>, options: RenderOptions = {}): Rendered {
  const links = strategyLinks(model, options.active);
  const selector = runStrategy(strategy, links, model.strategy.options);
  return {
    nft: renderNft(model, selector, strategy.name, { active: links.map((l) => l.name) }),
    routes: renderRoutes(model),
    rules: renderRules(model),
    sysctls: renderSysctls(model),
    active: links.map((l) => l.name),
  };
}

/** The iproute2 side as the commands that would create it, for `mwan render`. */
export function renderIpCommands(rendered: Pick<Rendered, 'routes' | 'rules' | 'sysctls'>): string {
  const lines = [
    // A learned gateway is only known at apply, from the kernel.
    ...rendered.routes.map((r) => (r.gateway === 'auto'
      ? `ip ${routeArgs('replace', { table: r.table, dev: r.dev }).join(' ').replace(' dev ', ' via GATEWAY dev ')}  # GATEWAY: learned from ${r.dev} at apply`
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
