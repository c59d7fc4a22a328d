/** Summaries of repeated measurements. The machine is noisy: medians, never means. */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** First and third quartile (linear interpolation). */
  q1: number;
  q3: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN, q1: NaN, q3: NaN };
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
  };
}

export const median = (values: readonly number[]): number => summarize(values).median;

/**
 * Ratios of paired runs: candidate[i] / baseline[i], where both were measured in the same round.
 * Noise that hits one round hits both sides, so the median of these is steadier than a ratio of
 * medians taken over different moments.
 */
export function pairedRatios(candidate: readonly number[], baseline: readonly number[]): number[] {
  if (candidate.length !== baseline.length) throw new RangeError(`paired ratios need as many candidate as baseline runs (${candidate.length} vs ${baseline.length})`);
  return candidate.map((c, i) => c / baseline[i]);
}
