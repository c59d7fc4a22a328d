import { Lab, type LabOptions } from '@mwan/lab';

/** Settings every benchmark gets: how much to measure and where to say what it is doing. */
export interface BenchContext {
  /** Tiny runs for the smoke test: numbers, not results. */
  quick: boolean;
  /** Paired rounds per comparison (≥5 in a full run). */
  rounds: number;
  /** Namespace prefix of the bench's labs (unique names come from the lab: prefix-pid-random). */
  labPrefix: string;
  log: (message: string) => void;
}

export const LAB_PREFIX = 'mwanbench';

/**
 * A lab for one benchmark, removed whatever happens. Reverse-path filtering starts at 0 (the
 * kernel's default): the seed script only clears `conf.all.rp_filter`, so with a strict
 * per-interface value the replies on its second link would be dropped and it could not serve as a
 * baseline. mwan makes the same choice on its own for link interfaces (loose, only when strict).
 */
export async function withLab<T>(ctx: BenchContext, options: LabOptions, body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.create({ rpFilter: 0, ...options, prefix: ctx.labPrefix, log: ctx.log });
  try {
    return await body(lab);
  } finally {
    await lab.destroy();
  }
}
