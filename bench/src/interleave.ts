/**
 * Reloads in alternate seconds of one load run: the seconds with a reload in them against the
 * seconds without, of the same run. Two runs one after the other (with reloads, then without)
 * also measure whatever else the machine did in between; alternating seconds within one run
 * leaves out all but what changes from one second to the next.
 */

/** A reload's wall-clock span (ms since the epoch), as the load's seconds are counted. */
export interface Span {
  start: number;
  end: number;
}

/**
 * When each of `count` reloads starts, in ms from the start of the schedule: in seconds 0, 2, 4 …
 * (`onSeconds` of them), evenly within the first `busyMs` of each, as many in each as the pace
 * allows (the first seconds take one more when they do not divide evenly).
 */
export function interleavedSchedule(count: number, onSeconds: number, busyMs = 700): number[] {
  const out: number[] = [];
  for (let k = 0; k < onSeconds; k++) {
    const here = Math.floor(count / onSeconds) + (k < count % onSeconds ? 1 : 0);
    for (let i = 0; i < here; i++) out.push(2 * k * 1000 + Math.round((i * busyMs) / here));
  }
  return out;
}

/**
 * Mean completions per second with a reload in it (any part of one) over those without, leaving
 * out the run's first and last second (start-up, and a second cut short).
 */
export function interleavedRatio(perSecond: readonly number[], begin: number, reloads: readonly Span[]): { ratio: number; reloadSeconds: number; quietSeconds: number } {
  const busy: number[] = [];
  const quiet: number[] = [];
  for (let s = 1; s < perSecond.length - 1; s++) {
    const from = begin + s * 1000;
    const to = from + 1000;
    (reloads.some((r) => r.start < to && r.end > from) ? busy : quiet).push(perSecond[s]);
  }
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { ratio: busy.length && quiet.length ? mean(busy) / mean(quiet) : NaN, reloadSeconds: busy.length, quietSeconds: quiet.length };
}
