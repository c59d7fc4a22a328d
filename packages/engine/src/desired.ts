import { dirname, resolve } from 'node:path';
import {
  activeLinks, buildModel, loadConfigFile, MwanError, NoUsableLinkError, parseConfig, render, splitActive, usableLinks, type DownLink, type InterfaceFacts, type Model, type Rendered,
} from '@mwan/core';
import { loadStrategy, type LoadedStrategy } from './strategy-loader.js';
import type { MwanState } from './state-file.js';

/** What the router should look like, from the config file and the chosen strategy. Pure apart from reading files. */
export interface Desired {
  configPath: string;
  /** The links the kernel gets: those that can carry traffic now, with their next hops. */
  model: Model;
  /** The config's other links, left out because their interface cannot carry traffic now. */
  down: DownLink[];
  /** Links applied for IPv4 only: their IPv6 side cannot carry traffic now (no RA gateway, no address …). */
  down6: DownLink[];
  strategy: LoadedStrategy;
  rendered: Rendered;
}

export interface DesiredOptions {
  /** The config's text instead of the file's (which then only names it and the strategies' folder). */
  configText?: string;
  /** `--strategy NAME`. */
  strategy?: string;
  previousMarks?: Readonly<Record<string, number>>;
  /** Links new connections may use (`mwan watch` after a health change); default all. */
  active?: readonly string[];
  /** Links whose health checks pass (`mwan watch`): rules' own links are chosen among them; default all. */
  healthy?: readonly string[];
  /**
   * Reads what the kernel says about each interface, once the config is known to be valid; without
   * it every link is taken as able to carry traffic (render, check).
   */
  interfaces?: () => Promise<ReadonlyMap<string, InterfaceFacts>>;
}

export async function loadDesired(configPath: string, options: DesiredOptions = {}): Promise<Desired> {
  const path = resolve(configPath);
  const config = options.configText !== undefined ? parseConfig(options.configText, `config ${path}`) : loadConfigFile(path);
  const configured = buildModel(config, { strategy: options.strategy, previousMarks: options.previousMarks });
  const { model, down, down6 } = options.interfaces ? usableLinks(configured, await options.interfaces()) : { model: configured, down: [], down6: [] };
  if (!model.links.length) {
    throw new NoUsableLinkError(`no link can carry traffic: ${down.map((d) => `${d.link.name}: ${d.detail} (${d.reason})`).join('; ')}`);
  }
  const strategy = await loadStrategy(model.strategy.name, { configDir: dirname(path) });
  // Each rule's own strategy, once per name.
  const strategies = new Map<string, LoadedStrategy['strategy']>();
  for (const [i, rule] of (model.rules ?? []).entries()) {
    const name = rule.strategy?.name;
    if (name === undefined || strategies.has(name)) continue;
    if (name === model.strategy.name) {
      strategies.set(name, strategy.strategy);
      continue;
    }
    try {
      strategies.set(name, (await loadStrategy(name, { configDir: dirname(path) })).strategy);
    } catch (error) {
      if (error instanceof MwanError) throw new MwanError(error.code, error.problems.map((p) => `rules[${i}]: ${p}`), { cause: error });
      throw error;
    }
  }
  // Names the config no longer has, or whose links were left out, are ignored. None left: the
  // best tier of the links that can carry traffic (a lower tier waits for it), never an empty map.
  // Per family when health judges a link's IPv6 on its own (`isp1:ipv6` in the set).
  const given = options.active ? splitActive(options.active) : undefined;
  const known = (names: readonly string[] | undefined) => names?.filter((name) => model.links.some((l) => l.name === name));
  const kept = known(given?.active);
  const active = given && !kept?.length ? activeLinks(model.links, {}) : kept;
  const active6 = known(given?.active6);
  const rendered = render(model, strategy.strategy, {
    ...(active?.length ? { active } : {}),
    ...(active6?.length ? { active6 } : {}),
    ...(options.healthy ? { healthy: options.healthy } : {}),
    strategies,
  });
  return { configPath: path, model, down, down6, strategy, rendered };
}

/** A link that stays keeps its mark, so its connections keep their way across applies. */
export function marksOf(state: MwanState | null): Record<string, number> {
  return Object.fromEntries((state?.links ?? []).map((link) => [link.name, link.mark]));
}
