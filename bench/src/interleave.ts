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
 * (`onSeconds` of them), evenly from `leadMs` (a timer may fire a few ms early: a reload due at a
 * second's very start could land in the second before) over `busyMs`, as many in each as the
 * pace allows (the first seconds take one more when they do not divide evenly).
 */
export function interleavedSchedule(count: number, onSeconds: number, busyMs = 700, leadMs = 50): number[] {
  const out: number[] = [];
  for (let k = 0; k < onSeconds; k++) {
    const here = Math.floor(count / onSeconds) + (k < count % onSeconds ? 1 : 0);
    for (let i = 0; i < here; i++) out.push(2 * k * 1000 + leadMs + Math.round((i * busyMs) / here));
  }
  return out;
}

/** Fewer seconds of either kind than this, and a run says nothing: its ratio is NaN. */
export const MIN_SECONDS = 3;

/**
 * Mean completions per second in which a reload started over those that no reload touched,
 * leaving out the run's first and last second (start-up, and a second cut short) and a second
 * that only the end of a reload begun in the one before ran into (neither kind: counting it with
 * the reloads would dilute them, with the quiet ones would burden those).
 */
export function interleavedRatio(perSecond: readonly number[], begin: number, reloads: readonly Span[]): { ratio: number; reloadSeconds: number; quietSeconds: number } {
  const busy: number[] = [];
  const quiet: number[] = [];
  for (let s = 1; s < perSecond.length - 1; s++) {
    const from = begin + s * 1000;
    const to = from + 1000;
    if (reloads.some((r) => r.start >= from && r.start < to)) busy.push(perSecond[s]);
    else if (!reloads.some((r) => r.start < to && r.end > from)) quiet.push(perSecond[s]);
  }
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const enough = busy.length >= MIN_SECONDS && quiet.length >= MIN_SECONDS;
  return { ratio: enough ? mean(busy) / mean(quiet) : NaN, reloadSeconds: busy.length, quietSeconds: quiet.length };
}
