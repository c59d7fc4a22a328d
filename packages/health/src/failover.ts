import { activeLinks, errorMessage, IPV6_UNIT_SUFFIX, ipv6Unit, MwanError, noUsableLink, type LinkState } from '@mwan/core';
import { changeMessage, listOf } from './change-message.js';
import type { Clock } from './clock.js';
import type { FailoverEvent } from './events.js';
import type { HealthFile, LinkHealthRecord } from './health-file.js';
import { hookEnv, type HookRunner } from './hook.js';
import { lossPercent, type LinkHealth } from './link-health.js';
import { HealthMonitor, type LinkChange } from './monitor.js';
import type { ProbedLink, Prober } from './probe.js';

/** After a failed apply, try again this much later (and again, until it works or the set changes). */
export const RETRY_MS = 2000;
/** health.json is rewritten at least this often while probes run (RTT and loss move). */
export const HEALTH_WRITE_MS = 1000;
/** What sends no event (a sysctl write) is compared this often. */
export const QUICK_DRIFT_MS = 1000;
/** Everything is compared at least this often, besides on every event (netlink, nft). */
export const DRIFT_CHECK_MS = 10_000;

export interface FailoverLink extends ProbedLink {
  priority: number;
  /**
   * The family this unit judges: `ipv6` for a link's IPv6 side (named `<link>:ipv6`), `ipv4` for
   * the IPv4 side of a link that has one; undefined: the whole link (both families follow it).
   */
  family?: 'ipv4' | 'ipv6';
  /** The link carries IPv6 (its IPv6 side follows this unit unless an `ipv6` unit judges it). */
  ipv6?: boolean;
}

export interface FailoverDeps {
  clock: Clock;
  prober: Prober;
  /**
   * Applies the config with only `active` links taking new connections; throws on failure.
   * `repair`: the apply puts back what the drift check found; it is skipped when `mwan down` ran
   * in the meantime (no state and no table are left alone). `healthy` (when the config's rules
   * follow health, see `start`): the links whose checks pass, whatever their tier.
   */
  apply(active: readonly string[], options?: { repair?: boolean; healthy?: readonly string[] }): Promise<void>;
  /** Deletes the conntrack entries carrying `mark` (of one family only, when given); returns how many. */
  flush(mark: number, family?: 'ipv4' | 'ipv6'): Promise<number>;
  hooks: HookRunner;
  /** One line per event a person should see; `event` is the same as data (absent for a plain note). */
  log(line: string, event?: FailoverEvent): void;
  /** Every event, including those without a line (each reconcile): for metrics. */
  observe?(event: FailoverEvent): void;
  writeHealth(file: HealthFile): Promise<void>;
  /**
   * Whether someone else (a manual `mwan apply`) replaced the ruleset since this process last
   * applied it; checked about once a second. The active set is then applied again.
   */
  appliedElsewhere?(): Promise<boolean>;
  /**
   * What an apply of `active` would change in the kernel now (its commands; empty: nothing):
   * the table deleted or changed, a route gone after a link bounced, a rule deleted, a sysctl
   * reset, an interface that came, went or got another gateway. Checked on every `kick()` and
   * every DRIFT_CHECK_MS; anything found is repaired by applying again.
   */
  drift?(active: readonly string[], healthy?: readonly string[]): Promise<string[]>;
  /** The part of `drift` that no event announces, cheap enough for every QUICK_DRIFT_MS. */
  quickDrift?(): Promise<string[]>;
  pid?: number;
}

export interface FailoverOptions {
  /** The config has policy rules with links of their own: see `Failover.followHealth`. */
  followHealth?: boolean;
}

/**
 * The daemon's logic, without I/O of its own: health changes → the active set (`activeLinks`)
 * → one atomic apply → conntrack entries of links that are down and out of the ruleset deleted
 * → hooks. Everything that changes the router runs one step at a time, in order; a failure is
 * logged and retried, never fatal.
 */
export class Failover {
  private readonly monitor: HealthMonitor;
  private links: FailoverLink[] = [];
  private configPath = '';
  /** What the ruleset has now: undefined until the first apply worked. */
  private applied: string[] | undefined;
  /**
   * Policy rules with links of their own choose among the healthy links of any tier: then a
   * change of health outside the best tier is applied too, and `healthy` goes with each apply.
   */
  private followHealth = false;
  /** The healthy links the ruleset has now (with followHealth). */
  private appliedHealthy: string[] | undefined;
  /** The config changed since the last apply (a reload), or the last apply failed. */
  private dirty = true;
  private allDown = false;
  /** Down links whose connections were deleted since they went down. */
  private readonly flushed = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private hookQueue: Promise<void> = Promise.resolve();
  private readonly stopping = new AbortController();
  private retrying = false;
  private writes: Promise<void> = Promise.resolve();
  private lastWrite = Number.NEGATIVE_INFINITY;
  private lastError?: string;
  private stoppedAt?: number;
  private lastDriftCheck = Number.NEGATIVE_INFINITY;
  private kicked = false;
  /** Ends the wait of a drift check under way: a reload or an apply from outside comes next. */
  private supersede?: () => void;
  /** Nothing applied yet because no link can carry traffic: every event and retry tries again. */
  private waitingForLink = false;
  private probing = false;
  /** `mwan down` ran through the daemon: hands off until the next apply or reload. */
  private paused = false;
  private repairs: { count: number; last?: { at: string; reason: string; what: string } } = { count: 0 };

  constructor(private readonly deps: FailoverDeps) {
    this.monitor = new HealthMonitor({
      clock: deps.clock,
      prober: deps.prober,
      onChange: (change) => this.changed(change),
      onProbe: () => this.probed(),
    });
  }

  /**
   * Applies the best tier, then starts probing: probes need the links' rules and routes, which
   * the apply creates. When no link can carry traffic yet (every interface absent, down …), it
   * returns all the same and waits: every `kick()` and every RETRY_MS try again, and probing
   * starts with the first apply that works. Any other failure of the first apply throws: nothing
   * is running then.
   */
  async start(links: readonly FailoverLink[], configPath: string, options: FailoverOptions = {}): Promise<void> {
    this.links = [...links];
    this.configPath = configPath;
    this.followHealth = options.followHealth ?? false;
    await this.enqueue(() => this.reconcile());
    if (this.applied === undefined && !this.waitingForLink) {
      await this.stop();
      throw new MwanError('runtime', this.lastError ?? 'the first apply failed');
    }
  }

  /** Once something is applied: the links' rules and routes exist for the probes to use. */
  private startProbing(kept?: ReadonlyMap<string, LinkHealth>): void {
    if (this.probing || this.stopping.signal.aborted) return;
    this.probing = true;
    this.monitor.start(this.links, kept);
    if (this.deps.drift) void this.driftLoop();
  }

  /**
   * Something in the kernel changed (a netlink event): look again. Level-triggered: a burst of
   * events costs one check, a missed one the next periodic check.
   */
  kick(): void {
    if (this.kicked || this.stopping.signal.aborted || (!this.deps.drift && !this.waitingForLink)) return;
    this.kicked = true;
    void this.enqueue(async () => {
      this.kicked = false;
      await this.repairDrift();
    });
  }

  private async driftLoop(): Promise<void> {
    let sinceFull = 0;
    while (!this.stopping.signal.aborted) {
      await this.deps.clock.sleep(QUICK_DRIFT_MS, this.stopping.signal);
      if (this.stopping.signal.aborted) break;
      sinceFull += QUICK_DRIFT_MS;
      if (sinceFull >= DRIFT_CHECK_MS || !this.deps.quickDrift) {
        sinceFull = 0;
        this.kick();
      } else if (!this.kicked) {
        void this.enqueue(() => this.repairDrift(true));
      }
    }
  }

  /** `quick`: only what no event announces (quickDrift). */
  private async repairDrift(quick = false): Promise<void> {
    if (this.applied === undefined && this.waitingForLink) return this.reconcile();
    if (this.applied === undefined || this.dirty || this.paused || !this.deps.drift) return;
    // A manual apply is the likeliest difference, and the one with a reason to name (a cheap
    // check, with the quick one too).
    if (await this.deps.appliedElsewhere?.()) {
      this.emit({ event: 'repair', reason: 'applied-elsewhere', active: [...this.applied] }, `the ruleset was applied by another mwan command; applying active links ${listOf(this.applied)} again`);
      this.dirty = true;
      await this.reconcile();
      return;
    }
    let changes: string[];
    const scope = quick && this.deps.quickDrift ? 'quick' : 'full';
    this.emit({ event: 'check', scope });
    const check = scope === 'quick' && this.deps.quickDrift ? this.deps.quickDrift() : this.deps.drift(this.applied, ...(this.followHealth && this.appliedHealthy ? [this.appliedHealthy] : []));
    // A check given up on may still fail later, with nobody waiting for it.
    check.catch(() => undefined);
    const superseded = new Promise<undefined>((resolve) => {
      this.supersede = () => resolve(undefined);
    });
    try {
      const outcome = await Promise.race([check, superseded]);
      // A reload or an apply from outside waits behind this check: it applies anyway, so the
      // check's answer would come too late to matter.
      if (outcome === undefined) return;
      changes = outcome;
    } catch (error) {
      this.emit({ event: 'drift-check', error: errorMessage(error) }, `drift check failed: ${errorMessage(error)}`);
      return;
    } finally {
      this.supersede = undefined;
    }
    if (!changes.length) return;
    const what = changes.length > 3 ? `${changes.slice(0, 3).join('; ')}; and ${changes.length - 3} more` : changes.join('; ');
    this.emit({ event: 'repair', reason: 'drift', active: [...this.applied], changes: [...changes] }, `repair: the kernel differs from the config (${what}); applying active links ${listOf(this.applied)} again`);
    this.dirty = true;
    await this.reconcile(undefined, true);
  }

  /**
   * A new config: links that stay keep their health, then the whole config is applied again
   * (weights or the strategy may have changed even when the active set did not).
   */
  async reload(links: readonly FailoverLink[], configPath: string, options: FailoverOptions = {}): Promise<void> {
    this.supersede?.();
    const kept = this.keptHealth(links);
    // Probing goes on through a reload of the same links and checks (it waits for no probe
    // round). Other links or checks: the old probes stop first (a removed link's would fail and
    // be acted on), and start again after the apply, which a new link's probes need.
    if (this.probing && !sameLinks(this.links, links)) {
      await this.monitor.stop();
      this.probing = false;
    }
    this.adopt(links, configPath, options);
    this.paused = false;
    this.dirty = true;
    // Links that stay are judged by their kept health; new ones count as up until probed.
    await this.enqueue(() => this.reconcile(kept));
    if (this.applied !== undefined) this.startProbing(kept);
  }

  /**
   * An apply asked for from outside (`mwan apply` through the daemon's socket), in turn with the
   * failover's own steps: `apply` gets the links that are healthy (as the failover's own applies
   * do; links that stay keep their health, new ones count as up) and its result is returned. On
   * success the daemon goes on with `links` and `configPath`; on failure nothing of it is kept
   * and nothing is retried: the caller hears the error.
   */
  async applyNow<T>(
    links: readonly FailoverLink[], configPath: string, options: FailoverOptions,
    apply: (active: readonly string[], healthy?: readonly string[]) => Promise<T>,
  ): Promise<T> {
    this.supersede?.();
    return this.exclusive(async () => {
      const kept = this.keptHealth(links);
      const before = { links: this.links, configPath: this.configPath, followHealth: this.followHealth };
      this.adopt(links, configPath, options);
      const { target, healthy, allDown } = this.targetOf(Object.fromEntries([...kept].map(([name, h]) => [name, h.state])));
      let result: T;
      try {
        result = await apply(target, healthy);
      } catch (error) {
        this.adopt(before.links, before.configPath, { followHealth: before.followHealth });
        // The drift check this apply gave up on is owed: it runs after it.
        this.kick();
        throw error;
      }
      this.paused = false;
      this.allDown = allDown;
      if (this.probing && !sameLinks(before.links, links)) {
        await this.monitor.stop();
        this.probing = false;
      }
      this.record(target, healthy, kept);
      await this.flushDead(this.monitor.states());
      await this.writeHealth().catch((error: unknown) => this.deps.log(errorMessage(error)));
      return result;
    });
  }

  /**
   * Runs `step` (a `mwan down` through the socket) in turn with the failover's own steps, then
   * applies nothing more, repairs nothing, until `applyNow` or `reload`: the router stays as
   * the step left it while probing goes on.
   */
  async pauseAfter<T>(step: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const result = await step();
      this.paused = true;
      this.emit({ event: 'paused' }, 'mwan down ran: nothing is applied or repaired until the next apply or SIGHUP');
      return result;
    });
  }

  /** Stops probing and waits for what is under way; the ruleset stays as it is. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.monitor.stop();
    // No ping outlives the daemon.
    await this.deps.prober.close?.().catch((error: unknown) => this.deps.log(`stopping the probes: ${errorMessage(error)}`));
    await this.queue;
    await this.hookQueue;
    this.stoppedAt = this.deps.clock.now();
    await this.writeHealth().catch(() => undefined);
  }

  /** The active set as applied, and each link's state. */
  get status(): { applied: string[] | undefined; allDown: boolean; states: Record<string, LinkState> } {
    return { applied: this.applied ? [...this.applied] : undefined, allDown: this.allDown, states: this.monitor.states() };
  }

  /** Resolves when every queued step (applies, flushes, hooks) is done. */
  async idle(): Promise<void> {
    await this.queue;
    await this.hookQueue;
  }

  private changed(change: LinkChange): void {
    const { kind, ...detail } = change.reason;
    this.emit({ event: 'link-state', link: change.link, from: change.from, to: change.to, reason: kind, ...detail }, changeMessage(change));
    if (change.to === 'up') this.flushed.delete(change.link);
    void this.enqueue(async () => {
      await this.reconcile();
      this.runHook(change);
    });
  }

  /**
   * The links that take new connections for these states: the best tier that is up (IPv4, or the
   * whole link), then the IPv6 set. All down: what is applied stays; nothing applied yet (a start
   * with every link dead is not known yet, links start up) falls back to every link.
   */
  private targetOf(states: Record<string, LinkState>): { target: string[]; healthy?: string[]; allDown: boolean } {
    const whole = this.links.filter((l) => l.family !== 'ipv6');
    const best = activeLinks(whole, states);
    const target = [
      ...(best ?? this.applied?.filter((n) => whole.some((l) => l.name === n)) ?? whole.map((l) => l.name)),
      ...this.ipv6Target(states),
    ];
    const healthy = this.followHealth ? whole.filter((l) => (states[l.name] ?? 'up') === 'up').map((l) => l.name) : undefined;
    return { target, ...(healthy ? { healthy } : {}), allDown: !best };
  }

  /** An apply of `target` went through: it is what new connections use now. */
  private record(target: readonly string[], healthy: readonly string[] | undefined, kept?: ReadonlyMap<string, LinkHealth>): void {
    const before = this.applied;
    this.applied = [...target];
    this.appliedHealthy = healthy ? [...healthy] : undefined;
    this.dirty = false;
    this.waitingForLink = false;
    this.startProbing(kept);
    if (!before || !sameSet(target, before)) {
      this.emit({ event: 'active', active: [...target], ...(before ? { was: [...before] } : {}) }, `active links: ${listOf(target)}${before ? ` (was ${listOf(before)})` : ''}`);
    }
  }

  /** Links that stay (same name, same interface) keep their health across a new config. */
  private keptHealth(links: readonly FailoverLink[]): Map<string, LinkHealth> {
    return new Map([...this.monitor.snapshot()].filter(([name]) => {
      const before = this.links.find((l) => l.name === name);
      const after = links.find((l) => l.name === name);
      return before && after && before.interface === after.interface;
    }));
  }

  private adopt(links: readonly FailoverLink[], configPath: string, options: FailoverOptions): void {
    this.links = [...links];
    this.configPath = configPath;
    this.followHealth = options.followHealth ?? false;
    for (const name of [...this.flushed]) if (!links.some((l) => l.name === name)) this.flushed.delete(name);
  }

  /** `step` in the queue, its error passed on to the caller instead of logged. */
  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      void this.enqueue(async () => {
        try {
          resolve(await step());
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step).catch((error: unknown) => this.emit({ event: 'internal-error', error: errorMessage(error) }, `internal error: ${errorMessage(error)}`));
    return this.queue;
  }

  private emit(event: FailoverEvent, line?: string): void {
    if (event.event === 'repair') {
      const what = event.changes?.length ? event.changes.join('; ') : event.reason;
      this.repairs = { count: this.repairs.count + 1, last: { at: new Date(this.deps.clock.now()).toISOString(), reason: event.reason, what } };
    }
    if (line !== undefined) this.deps.log(line, event);
    this.deps.observe?.(event);
  }

  /** Makes the ruleset match the links' health; on failure, logs and schedules another try. */
  private async reconcile(kept?: ReadonlyMap<string, LinkHealth>, repair = false): Promise<void> {
    if (this.paused) return;
    this.emit({ event: 'reconcile' });
    const states = kept ? Object.fromEntries([...kept].map(([name, h]) => [name, h.state])) : this.monitor.states();
    const { target, healthy, allDown } = this.targetOf(states);
    if (allDown) {
      const keeping = target.filter((n) => !n.endsWith(IPV6_UNIT_SUFFIX));
      if (!this.allDown) this.emit({ event: 'all-down', keeping: [...keeping] }, `all links down: keeping ${listOf(keeping)} in use`);
    }
    this.allDown = allDown;
    if (this.dirty || !sameSet(target, this.applied) || (healthy && !sameSet(healthy, this.appliedHealthy))) {
      const started = this.deps.clock.monotonic();
      try {
        const options = { ...(repair ? { repair } : {}), ...(healthy ? { healthy } : {}) };
        await this.deps.apply(target, Object.keys(options).length ? options : undefined);
        const durationMs = Math.round(this.deps.clock.monotonic() - started);
        this.emit({ event: 'apply', result: 'ok', durationMs, active: [...target] }, `applied active links ${listOf(target)} in ${durationMs} ms`);
      } catch (error) {
        const message = errorMessage(error);
        // While waiting for a link, the same reason again is no news: one line, not one every 2 s.
        const repeated = this.waitingForLink && message === this.lastError;
        this.lastError = message;
        this.waitingForLink = this.applied === undefined && noUsableLink(error);
        const durationMs = Math.round(this.deps.clock.monotonic() - started);
        this.emit(
          { event: 'apply', result: 'failed', durationMs, active: [...target], error: message },
          repeated ? undefined : this.waitingForLink
            ? `nothing applied yet: ${message}; waiting for a link (on every kernel event, and every ${RETRY_MS / 1000} s)`
            : `apply of active links ${listOf(target)} failed: ${message}; trying again in ${RETRY_MS / 1000} s`,
        );
        this.dirty = true;
        this.scheduleRetry();
        return;
      }
      this.record(target, healthy, kept);
    }
    // States may have moved while the apply ran: a link that is up again keeps its connections.
    await this.flushDead(kept ? states : this.monitor.states());
    await this.writeHealth().catch((error: unknown) => this.deps.log(errorMessage(error)));
  }

  /**
   * With a link's IPv6 judged on its own, the IPv6 set separately (`<link>:ipv6` names): the best
   * tier of the links whose IPv6 side is up, by its own unit or, without one, by the link's. All
   * down: the IPv6 set applied, or every IPv6 link. Without IPv6 units: nothing (IPv6 follows IPv4).
   */
  private ipv6Target(states: Record<string, LinkState>): string[] {
    if (!this.links.some((l) => l.family === 'ipv6')) return [];
    const six = this.links.filter((l) => l.ipv6 && l.family !== 'ipv6');
    const state = (name: string) => states[ipv6Unit(name)] ?? states[name] ?? 'up';
    const best = activeLinks(six, Object.fromEntries(six.map((l) => [l.name, state(l.name)])));
    const names = best ?? this.applied?.filter((n) => n.endsWith(IPV6_UNIT_SUFFIX)).map((n) => n.slice(0, -IPV6_UNIT_SUFFIX.length)) ?? six.map((l) => l.name);
    return names.map(ipv6Unit);
  }

  /** Connections of a dead link that the ruleset no longer selects are deleted, so clients reconnect elsewhere. */
  private async flushDead(states: Record<string, LinkState>): Promise<void> {
    for (const link of this.links) {
      if (states[link.name] !== 'down' || this.applied?.includes(link.name) || this.flushed.has(link.name)) continue;
      this.flushed.add(link.name);
      if (!link.health.flushConnections) continue;
      try {
        const count = await (link.family ? this.deps.flush(link.mark, link.family) : this.deps.flush(link.mark));
        this.emit({ event: 'flush', link: link.name, deleted: count }, `link ${link.name}: deleted ${count} conntrack entr${count === 1 ? 'y' : 'ies'}`);
      } catch (error) {
        this.emit({ event: 'flush', link: link.name, error: errorMessage(error) }, `link ${link.name}: deleting its conntrack entries failed: ${errorMessage(error)}`);
      }
    }
  }

  private scheduleRetry(): void {
    if (this.retrying || this.stopping.signal.aborted) return;
    this.retrying = true;
    void this.deps.clock.sleep(RETRY_MS, this.stopping.signal).then(() => {
      this.retrying = false;
      if (!this.stopping.signal.aborted) void this.enqueue(() => this.reconcile());
    });
  }

  /** Hooks run one after another but apart from the failover steps: a slow hook delays nothing. */
  private runHook(change: LinkChange): void {
    const link = this.links.find((l) => l.name === change.link);
    const hook = link?.health.hook;
    if (!link || !hook) return;
    const env = hookEnv({ link: link.name, to: change.to, interface: link.interface, mark: link.mark, active: this.applied ?? [] });
    this.hookQueue = this.hookQueue.then(async () => {
      try {
        const result = await this.deps.hooks.run(hook, env);
        if (result.exitCode !== 0) {
          this.emit(
            { event: 'hook', link: link.name, hook, state: change.to, exitCode: result.exitCode },
            `hook ${hook} (link ${link.name} ${change.to}) exited with ${result.exitCode}${result.output ? `: ${result.output.trim().split('\n')[0]}` : ''}`,
          );
        }
      } catch (error) {
        this.emit({ event: 'hook', link: link.name, hook, state: change.to, error: errorMessage(error) }, `hook ${hook} (link ${link.name} ${change.to}) failed: ${errorMessage(error)}`);
      }
    });
  }

  private probed(): void {
    // Monotonic: after a wall-clock step back, `now - lastWrite` would stay negative for as long.
    const now = this.deps.clock.monotonic();
    // RTT and loss move with every probe: rewritten at most every HEALTH_WRITE_MS; changes write at once.
    if (now - this.lastWrite >= HEALTH_WRITE_MS) void this.writeHealth().catch(() => undefined);
    if (this.deps.appliedElsewhere && now - this.lastDriftCheck >= HEALTH_WRITE_MS) {
      this.lastDriftCheck = now;
      void this.enqueue(() => this.reapplyIfReplaced());
    }
  }

  /** A manual apply renders every link active: put the health-checked set back. */
  private async reapplyIfReplaced(): Promise<void> {
    if (this.applied === undefined || this.dirty || this.paused || !(await this.deps.appliedElsewhere?.())) return;
    this.emit({ event: 'repair', reason: 'applied-elsewhere', active: [...this.applied] }, `the ruleset was applied by another mwan command; applying active links ${listOf(this.applied)} again`);
    this.dirty = true;
    await this.reconcile();
  }

  healthFile(): HealthFile {
    const snapshot = this.monitor.snapshot();
    return {
      version: 1,
      pid: this.deps.pid ?? process.pid,
      updated: new Date(this.deps.clock.now()).toISOString(),
      ...(this.stoppedAt !== undefined ? { stopped: new Date(this.stoppedAt).toISOString() } : {}),
      config: this.configPath,
      active: [...(this.applied ?? [])],
      allDown: this.allDown,
      repairs: { count: this.repairs.count, ...(this.repairs.last ? { last: { ...this.repairs.last } } : {}) },
      ...(this.paused ? { paused: true } : {}),
      links: this.links.map((link) => record(link, snapshot.get(link.name), this.deps.clock.monotonic())),
    };
  }

  /** Writes one at a time, each with the state of its own moment. */
  private writeHealth(): Promise<void> {
    this.lastWrite = this.deps.clock.monotonic();
    const write = this.writes.then(() => this.deps.writeHealth(this.healthFile()));
    this.writes = write.catch(() => undefined);
    return write;
  }
}

function record(link: FailoverLink, health: LinkHealth | undefined, monotonicNow: number): LinkHealthRecord {
  const loss = health ? lossPercent(health) : undefined;
  const held = health?.sinceMonotonic;
  return {
    name: link.name,
    interface: link.interface,
    mark: link.mark,
    priority: link.priority,
    checked: link.health.enabled,
    state: health?.state ?? 'up',
    since: new Date(health?.since ?? 0).toISOString(),
    ...(held !== undefined ? { stateSeconds: Math.round((monotonicNow - held) / 100) / 10 } : {}),
    rttMs: health?.lastRttMs ?? null,
    lossPercent: loss === undefined ? null : Math.round(loss * 10) / 10,
    probes: health?.probes ?? 0,
    ...(health?.lastError !== undefined ? { lastError: health.lastError } : {}),
  };
}

function sameSet(a: readonly string[], b: readonly string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((n) => b.includes(n));
}


/** The same links on the same interfaces with the same probing: the monitor can go on as it is. */
function sameLinks(a: readonly FailoverLink[], b: readonly FailoverLink[]): boolean {
  return a.length === b.length && a.every((l, i) => JSON.stringify(l) === JSON.stringify(b[i]));
}
