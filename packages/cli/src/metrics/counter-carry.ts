/**
 * Counters that never go backwards. A table swap (`nft -f` of a new table) starts mwan's nft
 * counters at 0 again, and a re-created interface its own counters: each kernel counter is read
 * together with what it belongs to (the table's handle, the interface's index), and when that
 * changed, or the value fell, everything counted before is kept as an offset.
 *
 * What is counted between the last reading and the reset is lost; `mwan watch` reads just before
 * each of its own applies, so only applies by other commands can lose anything.
 */
export interface CarriedCounter {
  /** What the kernel counter belongs to: a new source means the kernel started again from 0. */
  source: string;
  /** The kernel's value at the last reading. */
  last: number;
  /** Everything counted before the kernel counter last started again. */
  offset: number;
}

export type CarryState = Record<string, CarriedCounter>;

/** The carried value of one reading, and the state to keep for the next. */
export function carry(previous: CarriedCounter | undefined, source: string, observed: number): { value: number; next: CarriedCounter } {
  if (!previous) return { value: observed, next: { source, last: observed, offset: 0 } };
  const reset = previous.source !== source || observed < previous.last;
  const offset = reset ? previous.offset + previous.last : previous.offset;
  return { value: offset + observed, next: { source, last: observed, offset } };
}

/** Readings of several counters: keys not read this time keep their state (a link may come back). */
export function carryAll(state: CarryState, readings: Readonly<Record<string, { source: string; value: number }>>): { values: Record<string, number>; state: CarryState } {
  const next: CarryState = { ...state };
  const values: Record<string, number> = {};
  for (const [key, reading] of Object.entries(readings)) {
    const result = carry(state[key], reading.source, reading.value);
    values[key] = result.value;
    next[key] = result.next;
  }
  return { values, state: next };
}
