import { dirname, resolve } from 'node:path';
import { buildModel, loadConfigFile, render, type Model, type Rendered } from '@mwan/core';
import { loadStrategy, type LoadedStrategy } from '../strategy-loader.js';
import type { MwanState } from './state-file.js';

/** What the router should look like, from the config file and the chosen strategy. Pure apart from reading files. */
export interface Desired {
  configPath: string;
  model: Model;
  strategy: LoadedStrategy;
  rendered: Rendered;
}

export interface DesiredOptions {
  /** `--strategy NAME`. */
  strategy?: string;
  previousMarks?: Readonly<Record<string, number>>;
  /** Links new connections may use (`mwan watch` after a health change); default all. */
  active?: readonly string[];
}

export async function loadDesired(configPath: string, options: DesiredOptions = {}): Promise<Desired> {
  const path = resolve(configPath);
  const config = loadConfigFile(path);
  const model = buildModel(config, { strategy: options.strategy, previousMarks: options.previousMarks });
  const strategy = await loadStrategy(model.strategy.name, { configDir: dirname(path) });
  // Names the config no longer has are ignored; none left means all links, never an empty map.
  const active = options.active?.filter((name) => model.links.some((l) => l.name === name));
  return { configPath: path, model, strategy, rendered: render(model, strategy.strategy, active?.length ? { active } : {}) };
}

/** A link that stays keeps its mark, so its connections keep their way across applies. */
export function marksOf(state: MwanState | null): Record<string, number> {
  return Object.fromEntries((state?.links ?? []).map((link) => [link.name, link.mark]));
}
