import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { EventBurst } from './event-burst.js';

describe('EventBurst', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('acts once a burst has paused, once for the whole burst', () => {
    let acted = 0;
    const burst = new EventBurst(() => acted++, () => Date.now(), 20, 250);
    for (let i = 0; i < 5; i++) {
      burst.heard();
      jest.advanceTimersByTime(5);
    }
    expect(acted).toBe(0);
    jest.advanceTimersByTime(15);
    expect(acted).toBe(1);
    jest.advanceTimersByTime(1000);
    expect(acted).toBe(1);
  });

  it('acts at least every max wait under a steady stream', () => {
    let acted = 0;
    const burst = new EventBurst(() => acted++, () => Date.now(), 20, 250);
    for (let t = 0; t < 1000; t += 10) {
      burst.heard();
      jest.advanceTimersByTime(10);
    }
    // 1000 ms of events 10 ms apart: one check per 250 ms, none waiting for the stream to end.
    expect(acted).toBe(4);
  });

  it('acts on nothing after stop', () => {
    let acted = 0;
    const burst = new EventBurst(() => acted++, () => Date.now(), 20, 250);
    burst.heard();
    burst.stop();
    jest.advanceTimersByTime(1000);
    expect(acted).toBe(0);
  });
});
