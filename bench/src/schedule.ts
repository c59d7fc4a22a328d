/**
 * Setups of one round in a rotated order: over the rounds each runs first, last and in between,
 * so a slow drift of the machine (others' tests, thermal, caches) does not favour one of them.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const shift = round % Math.max(1, items.length);
  return [...items.slice(shift), ...items.slice(0, shift)];
}
