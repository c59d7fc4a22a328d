import type { KernelState } from '@mwan/iproute2';

/** The kernel as one apply or drift check reads it: mwan's table, and interfaces, rules and routes. */
export interface KernelView {
  table: string | null;
  ip: KernelState;
}

/**
 * The daemon's last read of the kernel, kept while nothing has been heard to change it: every
 * netlink or nft event (and every write by mwan itself) throws it away, so a reload right after
 * a drift check starts no process to read the kernel again. It is kept only while the monitors
 * that would announce a change are running (`listening`); a read that an event overtook is not
 * kept. What no event announces (set elements, which traffic changes all day) may be older than
 * the read: the apply reads the sticky sets itself before the swap, and a snapshot restored
 * after a failure may bring back older elements of other sets. The periodic drift check reads
 * afresh all the same and keeps that read.
 */
export class KernelCache {
  private generation = 0;
  private kept?: { view: KernelView; generation: number };
  private reading?: { generation: number; view: Promise<KernelView> };

  constructor(private readonly listening: () => boolean = () => true) {}

  /**
   * Something may have changed (an event, a monitor that stopped or started again, a write).
   * Returns the generation from now on: `keep` with it stores a view only if nothing else was
   * heard meanwhile.
   */
  invalidate(): number {
    this.generation += 1;
    this.kept = undefined;
    return this.generation;
  }

  /** The generation now: a view got (or a read started) now is as fresh as nothing heard after it. */
  get current(): number {
    return this.generation;
  }

  /**
   * Keeps a view the caller knows the kernel to be in: what its own write left, as an apply
   * knows it. Only while nothing was heard since `generation` (from `invalidate`) and the
   * monitors run; a read under way meanwhile may have seen the write half done, and is not kept.
   */
  keep(view: KernelView, generation: number): boolean {
    if (generation !== this.generation || !this.listening()) return false;
    this.generation += 1;
    this.kept = { view, generation: this.generation };
    return true;
  }

  /** The kept view, when no event has come since it was read and the monitors are running. */
  get(): KernelView | undefined {
    if (!this.listening()) this.kept = undefined;
    return this.kept?.generation === this.generation ? this.kept.view : undefined;
  }

  /**
   * Reads the kernel and keeps the view, unless an event came while it was being read. A read
   * already under way since the last event is joined: it is as fresh as a new one would be.
   */
  async read(read: () => Promise<KernelView>): Promise<KernelView> {
    const started = this.generation;
    const listened = this.listening();
    if (!listened) this.kept = undefined;
    if (listened && this.reading?.generation === started) return this.reading.view;
    const reading = { generation: started, view: read() };
    if (listened) this.reading = reading;
    try {
      const view = await reading.view;
      if (listened && started === this.generation && this.listening()) this.kept = { view, generation: started };
      return view;
    } finally {
      if (this.reading === reading) this.reading = undefined;
    }
  }
}
