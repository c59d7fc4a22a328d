import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineStrategy, isStrategy, strategyError, type Strategy, type StrategyDefinition } from '@mwan/core';
import destHash from '@mwan/strategy-dest-hash';
import roundRobin from '@mwan/strategy-round-robin';
import sourceHash from '@mwan/strategy-source-hash';
import weighted from '@mwan/strategy-weighted';

export const BUILTIN_STRATEGIES: readonly Strategy<unknown>[] = [roundRobin, weighted, sourceHash, destHash];

export interface LoadedStrategy {
  strategy: Strategy<unknown>;
  /** `builtin`, or the file it was loaded from. */
  source: string;
}

export interface LoadOptions {
  /** Directory of the config file: packages are looked up from here first. */
  configDir?: string;
  /** Directories searched after configDir, before mwan's own install (default: the global npm root). */
  extraRoots?: readonly string[];
}

const looksLikePath = (ref: string) => ref.startsWith('.') || isAbsolute(ref) || /\.(m?js|cjs)$/.test(ref);

/** The global `node_modules` of the node that runs mwan, found without running npm. */
export function globalRoot(): string {
  const prefix = process.env.npm_config_prefix ?? dirname(dirname(process.execPath));
  return join(prefix, 'lib', 'node_modules');
}

/**
 * `ref` is a built-in name, a path to a .js/.mjs file or package directory, or an npm package
 * name resolved from the config file's directory, then the global npm root, then mwan's install.
 */
export async function loadStrategy(ref: string, options: LoadOptions = {}): Promise<LoadedStrategy> {
  const builtin = BUILTIN_STRATEGIES.find((s) => s.name === ref);
  if (builtin) return { strategy: builtin, source: 'builtin' };

  const file = looksLikePath(ref) ? resolvePath(ref, options.configDir) : resolvePackage(ref, options);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw strategyError(`strategy "${ref}": cannot load ${file}: ${firstLine(error)}`, error);
  }
  const candidate = module.default ?? module.strategy;
  if (isStrategy(candidate)) return { strategy: candidate, source: file };
  // A package need not depend on @mwan/core: a plain { name, meta, select } is checked here.
  if (typeof candidate === 'object' && candidate !== null && 'select' in candidate) {
    try {
      return { strategy: defineStrategy(candidate as StrategyDefinition<unknown>), source: file };
    } catch (error) {
      throw strategyError(`strategy "${ref}": ${file}: ${firstLine(error)}`, error);
    }
  }
  throw strategyError(`strategy "${ref}": ${file} does not export a strategy (export default { name, meta, select })`);
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

function resolvePath(ref: string, configDir = process.cwd()): string {
  const path = resolve(configDir, ref);
  try {
    // A package directory: let node pick its entry point (exports/main).
    if (statSync(path).isDirectory()) return createRequire(join(path, 'noop.js')).resolve(path);
    return path;
  } catch (error) {
    throw strategyError(`strategy "${ref}": no file or package directory at ${path}`, error);
  }
}

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

function resolvePackage(ref: string, options: LoadOptions): string {
  if (!PACKAGE_NAME.test(ref)) {
    const names = BUILTIN_STRATEGIES.map((s) => s.name).join(', ');
    throw strategyError(`strategy "${ref}": not a built-in (${names}), a package name or a path`);
  }
  const roots = [options.configDir, ...(options.extraRoots ?? [globalRoot()])].filter((r): r is string => !!r);
  for (const root of roots) {
    try {
      return createRequire(join(root, 'noop.js')).resolve(ref);
    } catch {
      // try the next root
    }
  }
  try {
    return createRequire(import.meta.url).resolve(ref);
  } catch {
    const names = BUILTIN_STRATEGIES.map((s) => s.name).join(', ');
    throw strategyError(`strategy "${ref}": not a built-in (${names}) and no installed package of that name (looked in ${[...roots, 'mwan'].join(', ')})`);
  }
}

export interface StrategyListing {
  name: string;
  /** What selects it: the built-in name, the package name. */
  ref: string;
  source: string;
  description: string;
  options: unknown;
  /** Set when the package is installed but cannot be loaded. */
  error?: string;
}

const STRATEGY_PACKAGE = /^(@[a-z0-9][a-z0-9._-]*\/)?mwan-strategy-[a-z0-9._-]+$/;

/** Package directories named `mwan-strategy-*` (scoped or not) directly under `root`. */
function strategyPackagesIn(root: string): string[] {
  const found: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (entry.startsWith('@')) {
      let scoped: string[] = [];
      try {
        scoped = readdirSync(join(root, entry));
      } catch {
        // not a directory
      }
      for (const name of scoped) if (STRATEGY_PACKAGE.test(`${entry}/${name}`)) found.push(`${entry}/${name}`);
    } else if (STRATEGY_PACKAGE.test(entry)) found.push(entry);
  }
  return found.sort();
}

/** Built-ins, then installed `mwan-strategy-*` packages in resolution order (first one wins). */
export async function listStrategies(options: LoadOptions = {}): Promise<StrategyListing[]> {
  const listing: StrategyListing[] = BUILTIN_STRATEGIES.map((s) => ({
    name: s.name, ref: s.name, source: 'builtin', description: s.meta.description, options: s.meta.schema ?? {},
  }));
  const roots = [
    ...(options.configDir ? [join(options.configDir, 'node_modules')] : []),
    ...(options.extraRoots ?? [globalRoot()]),
  ];
  const seen = new Set<string>();
  for (const root of roots) {
    for (const ref of strategyPackagesIn(root)) {
      if (seen.has(ref)) continue;
      seen.add(ref);
      try {
        const { strategy, source } = await loadStrategy(ref, { configDir: dirname(root), extraRoots: [] });
        listing.push({ name: strategy.name, ref, source, description: strategy.meta.description, options: strategy.meta.schema ?? {} });
      } catch (error) {
        listing.push({ name: ref, ref, source: join(root, ref), description: '', options: {}, error: firstLine(error) });
      }
    }
  }
  return listing;
}
