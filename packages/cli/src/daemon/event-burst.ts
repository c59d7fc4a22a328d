/** How long the events must pause before the check they ask for runs. */
export const EVENT_QUIET_MS = 20;
/** The longest a check waits for a pause: a steady stream of events still gets one this often. */
export const EVENT_MAX_WAIT_MS = 250;

/**
 * Events come in bursts: one table swap is hundreds of `nft monitor` lines, a link bounce a
 * dozen `ip monitor` ones. A check started at the first line reads a kernel still changing, and
 * its read is thrown away by the lines after it; one check once they pause reads it once.
 */
export class EventBurst {
  private first?: number;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly act: () => void,
    private readonly now: () => number = () => performance.now(),
    private readonly quietMs = EVENT_QUIET_MS,
    private readonly maxWaitMs = EVENT_MAX_WAIT_MS,
  ) {}

  heard(): void {
    const now = this.now();
    this.first ??= now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.quietMs, this.first + this.maxWaitMs - now));
    this.timer = setTimeout(() => this.fire(), wait);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.first = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    this.first = undefined;
    this.act();
  }
}
