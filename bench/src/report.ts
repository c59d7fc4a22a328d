/** What each benchmark hands back: markdown for RESULTS.md, plots, and its headline numbers. */

export interface Target {
  /** What is compared, e.g. "data plane, mwan round-robin vs plain (conn/s)". */
  what: string;
  goal: string;
  measured: string;
  /** undefined: not measured, or a baseline; `inconclusive`: the two ways of measuring disagree. */
  met: Verdict;
}

export type Verdict = boolean | undefined | 'inconclusive';

/**
 * A rate target measured two ways (concurrent and sequential rounds): met when both medians meet
 * it, not met when neither does, inconclusive when they disagree (the noise is larger than the
 * margin). Without sequential rounds (quick runs) the concurrent one decides.
 */
export function bothWays(concurrent: number, sequential: number | undefined, meets: (ratio: number) => boolean): Verdict {
  if (sequential === undefined || !Number.isFinite(sequential)) return meets(concurrent);
  const a = meets(concurrent);
  return a === meets(sequential) ? a : 'inconclusive';
}

export interface Plot {
  /** File name under the plots directory. */
  file: string;
  svg: string;
  title: string;
}

export interface Section {
  title: string;
  /** What the benchmark measures and how, in a few sentences. */
  measures: string;
  /** Representative command lines it ran (namespaces written as <lan>, <router>, <srv>). */
  commands: string[];
  /** Markdown blocks: tables and notes. */
  body: string[];
  targets: Target[];
  plots: Plot[];
  /** Headline numbers by name (the smoke test checks they are finite). */
  numbers: Record<string, number>;
  /** Every sample, for results.json. */
  raw: unknown;
  /** Seconds the benchmark took. */
  seconds?: number;
  /** Kept from an earlier run by `--merge`: which one (date and commit). */
  from?: string;
}

/** A benchmark that could not run at all still produces a section that says why. */
export function notMeasured(title: string, measures: string, reason: string, target?: Omit<Target, 'measured' | 'met'>): Section {
  return {
    title,
    measures,
    commands: [],
    body: [`Not measured: ${reason}.`],
    targets: target ? [{ ...target, measured: `not measured: ${reason}`, met: undefined }] : [],
    plots: [],
    numbers: {},
    raw: { notMeasured: reason },
  };
}
