/** What each benchmark hands back: markdown for RESULTS.md, plots, and its headline numbers. */

export interface Target {
  /** What is compared, e.g. "data plane, mwan round-robin vs plain (conn/s)". */
  what: string;
  goal: string;
  measured: string;
  /** undefined: could not be measured. */
  met: boolean | undefined;
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
