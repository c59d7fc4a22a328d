import { describe, expect, it } from '@jest/globals';
import { KernelCache, type KernelView } from './kernel-cache.js';

const view = (table: string): KernelView => ({ table, ip: { interfaces: new Map(), rules: [], routes: [] } });

describe('KernelCache', () => {
  it('keeps a read until the next event', async () => {
    const cache = new KernelCache();
    expect(cache.get()).toBeUndefined();
    await cache.read(async () => view('a'));
    expect(cache.get()?.table).toBe('a');
    cache.invalidate();
    expect(cache.get()).toBeUndefined();
  });

  it('does not keep a read that an event overtook', async () => {
    const cache = new KernelCache();
    const read = await cache.read(async () => {
      cache.invalidate();
      return view('b');
    });
    // The caller gets what it read; the next one reads again.
    expect(read.table).toBe('b');
    expect(cache.get()).toBeUndefined();
  });

  it('keeps nothing while the monitors are not all running, nor a read from before they stopped', async () => {
    let listening = false;
    const cache = new KernelCache(() => listening);
    await cache.read(async () => view('c'));
    listening = true;
    expect(cache.get()).toBeUndefined();
    await cache.read(async () => view('d'));
    expect(cache.get()?.table).toBe('d');
    listening = false;
    expect(cache.get()).toBeUndefined();
    // Read while one monitor was down: not kept, even if it is back by the end.
    await cache.read(async () => {
      listening = true;
      return view('e');
    });
    expect(cache.get()).toBeUndefined();
  });
});

describe('KernelCache, reads under way', () => {
  it('joins a read under way since the last event, and not one an event came after', async () => {
    const cache = new KernelCache();
    let reads = 0;
    let finish: (view: KernelView) => void = () => {};
    const slow = () => {
      reads += 1;
      return new Promise<KernelView>((resolve) => {
        finish = resolve;
      });
    };
    const first = cache.read(slow);
    const second = cache.read(slow);
    expect(reads).toBe(1);
    finish(view('f'));
    expect((await first).table).toBe('f');
    expect((await second).table).toBe('f');

    const third = cache.read(slow);
    const finishThird = finish;
    cache.invalidate();
    const fourth = cache.read(slow);
    // The event came after the third began: the fourth reads for itself.
    expect(reads).toBe(3);
    finishThird(view('g'));
    finish(view('h'));
    expect((await third).table).toBe('g');
    expect((await fourth).table).toBe('h');
    expect(cache.get()?.table).toBe('h');
  });

  it('keeps a view its caller left only while nothing was heard since its invalidate, and then no read under way', async () => {
    const cache = new KernelCache();
    const generation = cache.invalidate();
    expect(cache.keep(view('mine'), generation)).toBe(true);
    expect(cache.get()?.table).toBe('mine');
    // Heard meanwhile: not kept.
    const next = cache.invalidate();
    cache.invalidate();
    expect(cache.keep(view('late'), next)).toBe(false);
    expect(cache.get()).toBeUndefined();
    // A read started before the keep (it may have seen the write half done) does not replace it.
    let finish: (v: KernelView) => void = () => {};
    const reading = cache.read(() => new Promise<KernelView>((resolve) => (finish = resolve)));
    expect(cache.keep(view('written'), cache.invalidate())).toBe(true);
    finish(view('half'));
    await reading;
    expect(cache.get()?.table).toBe('written');
  });

  it('keeps nothing while a monitor is down', () => {
    let listening = false;
    const cache = new KernelCache(() => listening);
    expect(cache.keep(view('x'), cache.invalidate())).toBe(false);
    listening = true;
    expect(cache.get()).toBeUndefined();
  });
});
