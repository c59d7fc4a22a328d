import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { carry, carryAll, type CarriedCounter } from './counter-carry.js';

describe('carried counters', () => {
  it('starts with the kernel value and follows it while the source stays', () => {
    const first = carry(undefined, 'table 5', 10);
    expect(first).toEqual({ value: 10, next: { source: 'table 5', last: 10, offset: 0 } });
    expect(carry(first.next, 'table 5', 25).value).toBe(25);
  });

  it('keeps what was counted when the table is swapped, even when the new counter is already higher', () => {
    const before: CarriedCounter = { source: 'table 5', last: 100, offset: 0 };
    // The new table has counted 150 by the time it is read: the handle says it is another counter.
    expect(carry(before, 'table 6', 150)).toEqual({ value: 250, next: { source: 'table 6', last: 150, offset: 100 } });
  });

  it('keeps what was counted when the value falls without a new source (a reset counter)', () => {
    expect(carry({ source: 'ifindex 3', last: 40, offset: 60 }, 'ifindex 3', 5)).toEqual({ value: 105, next: { source: 'ifindex 3', last: 5, offset: 100 } });
  });

  it('never goes backwards over any sequence of readings and swaps', () => {
    fc.assert(fc.property(fc.array(fc.record({ swap: fc.boolean(), add: fc.nat(1000) }), { maxLength: 50 }), (steps) => {
      let source = 0;
      let kernel = 0;
      let state: CarriedCounter | undefined;
      let previous = 0;
      let total = 0;
      for (const step of steps) {
        if (step.swap) {
          source++;
          kernel = 0;
        }
        kernel += step.add;
        total += step.add;
        const result = carry(state, `table ${source}`, kernel);
        expect(result.value).toBeGreaterThanOrEqual(previous);
        // Each swap is seen (one reading per step), so nothing counted is lost.
        expect(result.value).toBe(total);
        previous = result.value;
        state = result.next;
      }
    }));
  });

  it('carries several counters and keeps the state of those not read this time', () => {
    const one = carryAll({}, { a: { source: 's1', value: 3 }, b: { source: 's1', value: 4 } });
    const two = carryAll(one.state, { a: { source: 's2', value: 1 } });
    expect(two.values).toEqual({ a: 4 });
    expect(two.state.b).toEqual({ source: 's1', last: 4, offset: 0 });
  });
});
