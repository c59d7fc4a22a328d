/**
 * Pearson's χ² statistic of observed counts against expected proportions (any scale).
 * With two categories (df = 1), p < 0.001 needs χ² > 10.83.
 */
export function chiSquare(observed: readonly number[], weights: readonly number[]): number {
  if (observed.length !== weights.length || observed.length < 2) throw new RangeError('chiSquare needs matching observed and weights, at least two');
  const total = observed.reduce((a, b) => a + b, 0);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  return observed.reduce((sum, o, i) => {
    const expected = (total * weights[i]) / weightSum;
    return sum + (o - expected) ** 2 / expected;
  }, 0);
}

/** Critical value of χ² with one degree of freedom at p = 0.001. */
export const CHI2_DF1_P001 = 10.83;

/** Counts of each key, in first-seen order. */
export function tally<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
