import { Command, Option } from 'commander';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { errorMessage, runtimeError, type SysctlSpec } from '@mwan/core';
import {
  failoverLinks, CLOCK, ExecaHookRunner, Failover, HOOK_RUNNER, PROBER, readHealthFile, SystemProber, systemClock, writeHealthFile,
  type FailoverEvent, type FailoverLink, type FailoverOptions,
} from '@mwan/health';
import { Conntrack, NftSession, SPAWNER, type Spawner } from '@mwan/iproute2';
import { globalOptions, type CliContext } from '../context.js';
import { EventBurst } from '../daemon/event-burst.js';
import { KernelMonitors, KERNEL_EVENTS } from '../daemon/kernel-events.js';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  acquireLock, ApplyEngine, DetachedRevertTimer, KernelCache, loadDesired, marksOf, processAlive, readPendingConfirm, readState, socketPath, writePendingConfirm,
  type PendingConfirm, type TimerOutcome,
} from '@mwan/engine';
import { startControlServer, type ControlServer } from '../daemon/control-socket.js';
import { answerRequest, daemonContainer } from '../daemon/daemon-requests.js';
import { DaemonMetrics } from '../metrics/daemon-metrics.js';
import { parseListenAddress, type ListenAddress } from '../metrics/listen-address.js';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.js';
import { MetricsSource } from '../metrics/metrics-source.js';
import { DEFAULT_WAIT_SECONDS, parseSeconds } from '../parse-options.js';
import { formatLogLine, LOG_FORMATS, type LogFormat } from './watch-log.js';

/** Where watch hears SIGHUP, SIGTERM and SIGINT: the process, or what a test registers. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

export const SIGNALS: InjectionToken<SignalSource> = Symbol.for('mwan.Signals');

interface WatchRequest {
  configPath: string;

  runDir: string;
  waitSeconds: number;
  metrics?: ListenAddress;
  logFormat: LogFormat;
}

export function watchCommand(ctx: CliContext): Command {
  return new Command('watch')
    .summary('probe every link and fail over by itself (a foreground daemon, for systemd)')
    .description(
      'Applies the config with the best tier of links, then probes each link with health checks through the link '
      + 'itself (ICMP: one ping per link and target, kept running; TCP: a socat per probe). When the set of healthy links of the best tier changes it applies again with only those links '
      + 'taking new connections, deletes the dead links\' conntrack entries and runs the hook. Every link down: '
      + 'the last set is kept; no link able to carry traffic at start: it waits for one. On every netlink and nft event, and periodically, it compares the kernel with the config '
      + '(interfaces, table, rules, routes, sysctls) and repairs what differs. While it runs, mwan apply, down, confirm and status are carried out by it '
      + 'over mwan.sock in the run dir (root only, mode 0600), with its healthy links. Its applies start from its last read of the kernel while no event came since, '
      + 'and load the table through one nft -i it keeps running. SIGHUP reloads the config; SIGTERM or SIGINT stop it (exit 0), leaving the ruleset '
      + 'in place. A dual-stack link whose targets include IPv6 addresses is judged per family (isp1 by its IPv4 targets, isp1:ipv6 by its IPv6 ones): its IPv6 failing moves only IPv6 connections. '
      + 'Writes health.json in the run dir, which `mwan status` shows. See docs/health.md.',
    )
    .addOption(new Option('--wait <seconds>', 'how long each apply waits for another mwan holding the lock').argParser(parseSeconds).default(DEFAULT_WAIT_SECONDS))
    .addOption(new Option('--metrics <addr:port>', 'serve Prometheus metrics at http://ADDR:PORT/metrics (e.g. 127.0.0.1:9567)').argParser(parseListenAddress))
    .addOption(new Option('--log-format <format>', 'log lines as text, or one JSON object per line').choices(LOG_FORMATS).default('text'))
    .action(async (options: { wait: number; metrics?: ListenAddress; logFormat: LogFormat }, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      await watch(ctx, {
        configPath: globals.config, runDir: globals.runDir, waitSeconds: options.wait, logFormat: options.logFormat,
        ...(options.metrics ? { metrics: options.metrics } : {}),
      });
    });
}

function optional<T>(container: DependencyContainer, token: InjectionToken<T>): T | undefined {
  return container.isRegistered(token, true) ? container.resolve(token) : undefined;
}

async function watch(ctx: CliContext, request: WatchRequest): Promise<void> {
  const { container } = ctx;
  const log = (line: string, event?: FailoverEvent | { event: string; [field: string]: unknown }) => ctx.io.out(formatLogLine(request.logFormat, line, event, new Date()));
  await refuseSecondWatch(request.runDir);
  const engine = container.resolve(ApplyEngine);
  const conntrack = container.resolve(Conntrack);
  // The `applied` stamp of state.json after this process's last apply: another stamp means
  // someone ran `mwan apply`, which made every link active again.
  let ours: string | undefined;
  /**
   * The config the daemon applies and repairs towards: the file as read at start, SIGHUP or the
   * last `mwan apply`, not as edited since; after a `--confirm` revert, the config from before.
   */
  let current: HeldConfig = readHeldConfig(request.configPath);
  /** While an `apply --confirm` waits: the config to go back to if it is not confirmed. */
  let beforeConfirm: HeldConfig | undefined;
  let metrics: DaemonMetrics | undefined;
  /** The sysctls the last full drift check found wanted: the once-a-second check compares them. */
  let wantedSysctls: SysctlSpec[] | undefined;
  /** When the last apply put its table in place (monotonic): a reload is timed up to there. */
  let swappedAt: number | undefined;
  const onSwapped = () => {
    swappedAt = performance.now();
  };
  /** The strategy of the last apply that finished: reload lines name it. */
  let appliedStrategy: string | undefined;
  // Read through a call: set by the apply a reload awaits, which narrowing does not see.
  const lastStrategy = (): string | undefined => appliedStrategy;
  const events = optional(container, KERNEL_EVENTS) ?? new KernelMonitors();
  // The last read of the kernel, until an event says it changed: a reload then reads nothing.
  const kernelCache = new KernelCache(() => events.listening());
  // The table is loaded through one nft -i kept running (no process per reload). Only with the
  // real system's spawner: a test's fake kernel answers its runner, and nft -f goes there.
  const nftLoader = nftSessionFor(optional(container, SPAWNER), request.runDir);
  const loading = nftLoader ? { nftLoader } : {};
  const failover: Failover = new Failover({
    clock: optional(container, CLOCK) ?? systemClock,
    prober: optional(container, PROBER) ?? container.resolve(SystemProber),
    apply: async (active, options) => {
      // The counters of the table about to be replaced are read first, so the carry loses nothing.
      await metrics?.beforeApply().catch(() => undefined);
      const report = await engine.apply({
        configPath: current.path, configText: current.text, strategy: current.strategy, runDir: request.runDir, waitSeconds: request.waitSeconds, active, onSwapped, kernelCache, ...loading,
        ...(options?.repair ? { repair: true } : {}), ...(options?.healthy ? { healthy: options.healthy } : {}),
      });
      appliedStrategy = report.strategy;
      // The first note of a repaired apply says what it repaired.
      const repair: FailoverEvent | undefined = report.repaired ? { event: 'repair', reason: 'interrupted-apply', active: [...active] } : undefined;
      report.notes.forEach((note, i) => log(note, i === 0 ? repair : undefined));
      for (const d of report.down) log(`link ${d.name} left out: ${d.detail} (${d.reason})`, { event: 'left-out', link: d.name, interface: d.interface, reason: d.reason });
      if (repair) metrics?.observe(repair);
      ours = (await readState(request.runDir))?.applied;
    },
    // After `mwan down` there is no state: that is left alone until the next change or reload.
    appliedElsewhere: async () => {
      const state = await readState(request.runDir).catch(() => null);
      return state !== null && ours !== undefined && state.applied !== ours;
    },
    drift: async (active, healthy) => {
      const found = await engine.drift({ configPath: current.path, configText: current.text, strategy: current.strategy, runDir: request.runDir, active, kernelCache, ...loading, ...(healthy ? { healthy } : {}) });
      wantedSysctls = found.sysctls;
      return found.changes;
    },
    quickDrift: async () => (wantedSysctls ? engine.sysctlDrift(wantedSysctls, request.runDir) : []),
    // Only the mask's bits of the ct mark are mwan's: the last apply recorded which they are.
    flush: async (mark, family) => conntrack.deleteMark(mark, (await readState(request.runDir).catch(() => null))?.markMask, family),
    hooks: optional(container, HOOK_RUNNER) ?? new ExecaHookRunner(),
    log,
    observe: (event) => metrics?.observe(event),
    writeHealth: (file) => writeHealthFile(request.runDir, file),
  });
  if (request.metrics) metrics = new DaemonMetrics(container.resolve(MetricsSource), { runDir: request.runDir, configPath: request.configPath, health: () => failover.healthFile() });
  let server: MetricsServer | undefined;
  // One check per burst of events.
  const burst = new EventBurst(() => failover.kick());

  // Handlers go in first: a signal during the first apply is acted on once it is done.
  const signals = optional(container, SIGNALS) ?? process;
  let stopWith: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    stopWith = resolve;
  });
  let started = false;
  let reloads = Promise.resolve();
  const onTerm = () => stopWith('SIGTERM');
  const onInt = () => stopWith('SIGINT');
  const onHup = () => {
    // Monotonic: what the daemon itself takes from the signal to the swapped table.
    const received = performance.now();
    reloads = reloads.then(async () => {
      if (!started) return;
      const next = readHeldConfig(current.path);
      let links: FailoverLink[];
      let options: FailoverOptions;
      try {
        ({ links, options } = await linksOf(next, request.runDir));
      } catch (error) {
        log(`SIGHUP: config not reloaded, the running one is kept: ${errorMessage(error)}`);
        return;
      }
      current = next;
      // The sysctls the old config wanted: the next full check finds the new config's.
      wantedSysctls = undefined;
      swappedAt = undefined;
      appliedStrategy = undefined;
      await failover.reload(links, next.path, options);
      const timing = reloadTiming(received, swappedAt);
      const strategy = lastStrategy();
      log(`SIGHUP: reloaded ${next.path} (${links.length} link${links.length === 1 ? '' : 's'}${strategy ? `, strategy ${strategy}` : ''}): ${timing.text}`, { event: 'reload', config: next.path, links: links.length, ...(strategy ? { strategy } : {}), ...timing.fields });
    });
  };

  // Client commands (apply, down, confirm, status) run here, the same code printing the same lines.
  const clients = daemonContainer(container, {
    active: () => failover.status.applied,
    apply: async (applyRequest, requestEngine) => {
      const received = performance.now();
      const next = readHeldConfig(applyRequest.configPath, applyRequest.strategy);
      const { links, options } = await linksOf(next, request.runDir);
      const before = current;
      swappedAt = undefined;
      const report = await failover.applyNow(links, next.path, options, async (active, healthy) => {
        await metrics?.beforeApply().catch(() => undefined);
        const applied = await requestEngine.apply({
          ...applyRequest, configText: next.text, active, onSwapped, kernelCache, ...loading, ...(healthy ? { healthy } : {}),
          // Recorded in confirm.json: a daemon started during the window keeps it after a revert.
          ...(applyRequest.confirmSeconds !== undefined ? { heldBefore: beforeConfirm ?? before } : {}),
        });
        ours = (await readState(request.runDir))?.applied;
        appliedStrategy = applied.strategy;
        current = next;
        wantedSysctls = undefined;
        return applied;
      });
      // A second unconfirmed apply goes back to where the first started.
      if (applyRequest.confirmSeconds !== undefined) beforeConfirm ??= before;
      else beforeConfirm = undefined;
      const timing = reloadTiming(received, swappedAt);
      const active = report.links.filter((l) => failover.status.applied?.includes(l.name)).map((l) => l.name);
      log(`apply: ${next.path} applied for mwan apply (active links ${active.join(', ')}; strategy ${report.strategy}): ${timing.text}`, { event: 'client-apply', config: next.path, active, strategy: report.strategy, ...timing.fields, ...(applyRequest.confirmSeconds !== undefined ? { confirmSeconds: applyRequest.confirmSeconds } : {}) });
      return report;
    },
    down: (downRequest, downEngine) => failover.pauseAfter(() => {
      kernelCache.invalidate();
      return downEngine.down(downRequest);
    }),
    reverted: (restored) => {
      // Before the revert's lock is released: a drift check after it compares with the config
      // from before, and does not repair the revert away; the state it put back is this
      // daemon's doing, not another command's apply.
      kernelCache.invalidate();
      if (beforeConfirm) current = beforeConfirm;
      ours = restored?.applied;
    },
    confirmEnded: async (outcome: TimerOutcome) => {
      const back = beforeConfirm;
      beforeConfirm = undefined;
      // A revert changed the kernel in another process.
      kernelCache.invalidate();
      if (outcome.outcome !== 'reverted' || !back) return;
      current = back;
      log(`confirm: not confirmed in time, reverted; the daemon keeps ${back.path} as it was before the change`, { event: 'confirm-reverted', config: back.path });
      reloads = reloads.then(async () => {
        const { links, options } = await linksOf(back, request.runDir);
        await failover.reload(links, back.path, options);
      }).catch((error: unknown) => log(`confirm: ${errorMessage(error)}`));
      await reloads;
    },
    log,
  });
  let control: ControlServer | undefined;
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);
  signals.on('SIGHUP', onHup);
  try {
    const { links, options } = await linksOf(current, request.runDir);
    // Listening first: a port in use fails the start before anything is applied.
    if (metrics && request.metrics) {
      await metrics.start();
      const daemonMetrics = metrics;
      server = await startMetricsServer(request.metrics, () => daemonMetrics.exposition());
    }
    // Netlink events only say "look again": the drift check reads the kernel afresh. The
    // monitors are subscribed before the first apply, so no change after it goes unheard.
    await events.start((change) => {
      // The daemon's own nft -i, in its own table: the apply that wrote knows what it left (and
      // kept it). Seen from inside another pid namespace the kernel's pid is not nft -i's, and
      // every transaction counts.
      if (change?.by !== undefined && change.by === nftLoader?.pid && change.onlyMwan) return;
      kernelCache.invalidate();
      burst.heard();
    }, (message) => {
      kernelCache.invalidate();
      log(message, { event: 'events', error: message });
    });
    await failover.start(links, current.path, options);
    started = true;
    // A change applied with --confirm whose timer is gone (it lived in a daemon that died): this
    // daemon reverts it at its deadline unless confirmed, and then keeps the config from before.
    // Before the socket listens, and under the lock: no `mwan confirm` comes in between.
    const orphan = await adoptOrphanedConfirm(request.runDir, request.waitSeconds);
    if (orphan) {
      beforeConfirm = orphan.held;
      await clients.resolve(DetachedRevertTimer).start(request.runDir, orphan.token);
      log(`confirm: a change applied with --confirm waits for "mwan confirm" and its timer is gone; this daemon reverts it at ${orphan.deadline} unless confirmed`, { event: 'confirm-resumed', deadline: orphan.deadline });
    }
    control = await startControlServer(socketPath(request.runDir), (clientRequest) => answerRequest(clientRequest, clients, ctx.env));
    log(describeStart(links));
    if (server) log(`metrics: http://${server.address.host.includes(':') ? `[${server.address.host}]` : server.address.host}:${server.address.port}/metrics`, { event: 'metrics', ...server.address });
    // With no link to probe nothing else keeps the event loop busy, and node would end the
    // process while it waits for a signal: a timer holds it until one comes.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const signal = await stopped.finally(() => clearInterval(keepAlive));
    log(`${signal}: stopping; the ruleset stays as it is`);
    await reloads;
    await failover.stop();
  } finally {
    await control?.close();
    nftLoader?.close();
    await events.stop();
    burst.stop();
    metrics?.stop();
    await server?.close();
    signals.off('SIGTERM', onTerm);
    signals.off('SIGINT', onInt);
    signals.off('SIGHUP', onHup);
  }
}

/**
 * A reload's times from the signal or request: to the new table in place (what traffic sees),
 * and to the end (stale rules and routes, conntrack, sysctls, state.json).
 */
function reloadTiming(received: number, swappedAt: number | undefined): { text: string; fields: { swappedMs?: number; durationMs: number } } {
  const durationMs = Math.round(performance.now() - received);
  if (swappedAt === undefined || swappedAt < received) return { text: `table unchanged, done in ${durationMs} ms`, fields: { durationMs } };
  const swappedMs = Math.round(swappedAt - received);
  return { text: `table swapped in ${swappedMs} ms, done in ${durationMs} ms`, fields: { swappedMs, durationMs } };
}

/** A config as the daemon holds it: its path, its text as read then, and an `apply --strategy`. */
interface HeldConfig {
  path: string;
  text?: string;
  strategy?: string;
}

/** The file's text now; unreadable, only the path (loading it gives the error people can act on). */
function readHeldConfig(path: string, strategy?: string): HeldConfig {
  const absolute = resolve(path);
  const chosen = strategy !== undefined ? { strategy } : {};
  try {
    return { path: absolute, text: readFileSync(absolute, 'utf8'), ...chosen };
  } catch {
    return { path: absolute, ...chosen };
  }
}

/**
 * The config's links with the marks an apply gives them now (the last apply's marks are kept),
 * and whether policy rules with links of their own make every link's health matter.
 */
async function linksOf(config: HeldConfig, runDir: string): Promise<{ links: FailoverLink[]; options: FailoverOptions }> {
  const desired = await loadDesired(config.path, { configText: config.text, strategy: config.strategy, previousMarks: marksOf(await readState(runDir)) });
  return {
    links: failoverLinks(desired.model.links),
    options: { followHealth: (desired.model.rules ?? []).some((r) => r.links !== undefined) },
  };
}

function describeStart(links: readonly FailoverLink[]): string {
  const checked = links.filter((l) => l.health.enabled);
  if (!checked.length) return 'watching: no link has health check targets, so every link counts as up';
  const parts = checked.map((l) => `${l.name} (${l.health.method} ${l.health.targets.join(',')} every ${l.health.interval} s)`);
  return `watching ${parts.join(', ')}`;
}

/** A run dir whose path nft cannot quote in `include` loads with nft -f, as the commands do. */
function nftSessionFor(spawner: Spawner | undefined, runDir: string): NftSession | undefined {
  try {
    return spawner ? new NftSession(spawner, join(resolve(runDir), 'nft-load.nft')) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * confirm.json whose revert timer no longer runs (its pid is gone, or was a daemon before this
 * one), made this process's under the lock; null when there is none.
 */
async function adoptOrphanedConfirm(runDir: string, waitSeconds: number): Promise<PendingConfirm | null> {
  const orphaned = (pending: PendingConfirm | null) => {
    const timer = pending?.timerPid;
    return pending !== null && (timer === undefined || timer === process.pid || !processAlive(timer));
  };
  if (!orphaned(await readPendingConfirm(runDir).catch(() => null))) return null;
  const lock = await acquireLock(runDir, { waitSeconds });
  try {
    const pending = await readPendingConfirm(runDir).catch(() => null);
    if (!pending || !orphaned(pending)) return null;
    const adopted = { ...pending, timerPid: process.pid };
    await writePendingConfirm(runDir, adopted);
    return adopted;
  } finally {
    await lock.release();
  }
}

/** Two daemons on one run dir would undo each other's applies. */
async function refuseSecondWatch(runDir: string): Promise<void> {
  const previous = await readHealthFile(runDir).catch(() => null);
  if (previous && previous.pid !== process.pid && processAlive(previous.pid) && previous.stopped === undefined) {
    throw runtimeError(`another mwan watch (pid ${previous.pid}) is running for ${runDir}`);
  }
}
