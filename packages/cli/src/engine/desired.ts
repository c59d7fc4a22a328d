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
}

export async function loadDesired(configPath: string, options: DesiredOptions = {}): Promise<Desired> {
  const path = resolve(configPath);
  const config = loadConfigFile(path);
  const model = buildModel(config, { strategy: options.strategy, previousMarks: options.previousMarks });
  const strategy = await loadStrategy(model.strategy.name, { configDir: dirname(path) });
  return { configPath: path, model, strategy, rendered: render(model, strategy.strategy) };
}

/** A link that stays keeps its mark, so its connections keep their way across applies. */
export function marksOf(state: MwanState | null): Record<string, number> {
  return Object.fromEntries((state?.links ?? []).map((link) => [link.name, link.mark]));
}
