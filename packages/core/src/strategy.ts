import type { AnySchema } from 'ajv';
import { errorMessage, strategyError } from './errors.js';
import { createSelectorBuilder, isBuiltSelector, type Selector, type SelectorBuilder, type StrategyLink } from './nft-builder.js';
import type { BucketLink } from './hash-buckets.js';
import { compileSchema, validateWith } from './schemas.js';

/**
 * The public contract for strategy packages. A strategy picks, for each new connection, the mark
 * of one link, as ONE nft expression built with `ctx.nft`.
 */
export interface StrategyContext<O = Record<string, unknown>> {
  /** The links to choose from (healthy ones, in config order). */
  readonly links: readonly StrategyLink[];
  /** The validated options, defaults filled in. */
  readonly options: O;
  readonly nft: SelectorBuilder;
}

export interface StrategyMeta<O> {
  description: string;
  /** JSON Schema of the options object. */
  schema?: AnySchema;
  defaultOptions?: Partial<O>;
}

export interface StrategyDefinition<O = Record<string, unknown>> {
  /** Short name: lower-case letters, digits and dashes. */
  name: string;
  meta: StrategyMeta<O>;
  select(ctx: StrategyContext<O>, options: O): Selector;
}

const STRATEGY = Symbol.for('mwan.strategy');

export interface Strategy<O = Record<string, unknown>> extends Readonly<StrategyDefinition<O>> {
  readonly [STRATEGY]: true;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Checks the definition's shape (blaming the strategy, not the user) and brands it. */
export function defineStrategy<O = Record<string, unknown>>(definition: StrategyDefinition<O>): Strategy<O> {
  const problems = definitionProblems(definition);
  if (problems.length) throw new TypeError(`invalid strategy definition: ${problems.join('; ')}`);
  return Object.freeze({ ...definition, meta: Object.freeze({ ...definition.meta }), [STRATEGY]: true as const });
}

function definitionProblems(definition: unknown): string[] {
  if (typeof definition !== 'object' || definition === null) return ['not an object'];
  const d = definition as Partial<StrategyDefinition<unknown>>;
  const problems: string[] = [];
  if (typeof d.name !== 'string' || !NAME.test(d.name)) problems.push(`name ${JSON.stringify(d.name)} must be lower-case letters, digits and dashes`);
  if (typeof d.select !== 'function') problems.push('select must be a function');
  if (typeof d.meta !== 'object' || d.meta === null) problems.push('meta must be an object');
  else {
    if (typeof d.meta.description !== 'string') problems.push('meta.description must be a string');
    if (d.meta.schema !== undefined) {
      try {
        compileSchema(d.meta.schema);
      } catch (error) {
        problems.push(`meta.schema is not a valid JSON Schema (${(error as Error).message})`);
      }
    }
  }
  return problems;
}

export function isStrategy(value: unknown): value is Strategy {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[STRATEGY] === true;
}

/** Validates options against the strategy's schema, with its defaults filled in. */
export function strategyOptions<O>(strategy: Strategy<O>, raw: unknown): O {
  const options = { ...(strategy.meta.defaultOptions ?? {}), ...((raw as object) ?? {}) };
  if (strategy.meta.schema !== undefined) {
    const problems = validateWith(compileSchema(strategy.meta.schema), options, 'options');
    if (problems.length) throw strategyError(problems.map((p) => `strategy "${strategy.name}": ${p}`));
  }
  return options as O;
}

/**
 * Runs the strategy and checks what it returns. A throw, a hand-made object or a mark that is
 * not one of the given links is the strategy's fault and is reported as such. `configured`: every
 * link of the config, up or not, for the builder's failover-proof hashing.
 */
export function runStrategy<O>(strategy: Strategy<O>, links: readonly StrategyLink[], rawOptions: unknown, configured?: readonly BucketLink[]): Selector {
  const options = strategyOptions(strategy, rawOptions);
  const ctx: StrategyContext<O> = Object.freeze({ links, options, nft: createSelectorBuilder(links, links[0]?.family ?? 'ipv4', configured) });
  let selector: unknown;
  try {
    selector = strategy.select(ctx, options);
  } catch (error) {
    throw strategyError(`strategy "${strategy.name}": select() failed: ${errorMessage(error)}`, error);
  }
  if (!isBuiltSelector(selector)) {
    throw strategyError(`strategy "${strategy.name}": select() must return a selector made with ctx.nft, got ${typeof selector}`);
  }
  const allowed = new Set(links.map((l) => l.mark));
  const foreign = selector.marks.filter((m) => !allowed.has(m));
  if (foreign.length) throw strategyError(`strategy "${strategy.name}": select() chose marks of no active link: ${foreign.join(', ')}`);
  return selector;
}
