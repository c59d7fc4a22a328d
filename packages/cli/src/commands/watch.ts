import { Command, Option } from 'commander';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { errorMessage, runtimeError } from '@mwan/core';
import {
  CLOCK, ExecaHookRunner, Failover, HOOK_RUNNER, PROBER, readHealthFile, SystemProber, systemClock, writeHealthFile,
  type FailoverLink,
} from '@mwan/health';
import { Conntrack } from '@mwan/iproute2';
import { globalOptions, type CliContext } from '../context.js';
import { ApplyEngine } from '../engine/apply-engine.js';
import { loadDesired, marksOf } from '../engine/desired.js';
import { processAlive } from '../engine/lock.js';
import { readState } from '../engine/state-file.js';
import { DEFAULT_WAIT_SECONDS, parseSeconds } from '../parse-options.js';

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
}

export function watchCommand(ctx: CliContext): Command {
  return new Command('watch')
    .summary('probe every link and fail over by itself (a foreground daemon, for systemd)')
    .description(
      'Applies the config with the best tier of links, then probes each link with health checks through the link '
      + 'itself. When the set of healthy links of the best tier changes it applies again with only those links '
      + 'taking new connections, deletes the dead links\' conntrack entries and runs the hook. Every link down: '
      + 'the last set is kept. SIGHUP reloads the config; SIGTERM or SIGINT stop it (exit 0), leaving the ruleset '
      + 'in place. Writes health.json in the run dir, which `mwan status` shows. See docs/health.md.',
    )
    .addOption(new Option('--wait <seconds>', 'how long each apply waits for another mwan holding the lock').argParser(parseSeconds).default(DEFAULT_WAIT_SECONDS))
    .action(async (options: { wait: number }, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      await watch(ctx, { configPath: globals.config, runDir: globals.runDir, waitSeconds: options.wait });
    });
}

function optional<T>(container: DependencyContainer, token: InjectionToken<T>): T | undefined {
  return container.isRegistered(token, true) ? container.resolve(token) : undefined;
}

async function watch(ctx: CliContext, request: WatchRequest): Promise<void> {
  const { container } = ctx;
  const log = (line: string) => ctx.io.out(`${line}\n`);
  await refuseSecondWatch(request.runDir);
  const engine = container.resolve(ApplyEngine);
  const conntrack = container.resolve(Conntrack);
  // The `applied` stamp of state.json after this process's last apply: another stamp means
  // someone ran `mwan apply`, which made every link active again.
  let ours: string | undefined;
  const failover = new Failover({
    clock: optional(container, CLOCK) ?? systemClock,
    prober: optional(container, PROBER) ?? container.resolve(SystemProber),
    apply: async (active) => {
      const report = await engine.apply({ configPath: request.configPath, runDir: request.runDir, waitSeconds: request.waitSeconds, active });
      for (const note of report.notes) log(note);
      ours = (await readState(request.runDir))?.applied;
    },
    // After `mwan down` there is no state: that is left alone until the next change or reload.
    appliedElsewhere: async () => {
      const state = await readState(request.runDir).catch(() => null);
      return state !== null && ours !== undefined && state.applied !== ours;
    },
    // Only the mask's bits of the ct mark are mwan's: the last apply recorded which they are.
    flush: async (mark) => conntrack.deleteMark(mark, (await readState(request.runDir).catch(() => null))?.markMask),
    hooks: optional(container, HOOK_RUNNER) ?? new ExecaHookRunner(),
    log,
    writeHealth: (file) => writeHealthFile(request.runDir, file),
  });

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
    reloads = reloads.then(() => (started ? reload(failover, request, log) : undefined));
  };
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);
  signals.on('SIGHUP', onHup);
  try {
    const links = await linksOf(request);
    await failover.start(links, request.configPath);
    started = true;
    log(describeStart(links));
    // With no link to probe nothing else keeps the event loop busy, and node would end the
    // process while it waits for a signal: a timer holds it until one comes.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const signal = await stopped.finally(() => clearInterval(keepAlive));
    log(`${signal}: stopping; the ruleset stays as it is`);
    await reloads;
    await failover.stop();
  } finally {
    signals.off('SIGTERM', onTerm);
    signals.off('SIGINT', onInt);
    signals.off('SIGHUP', onHup);
  }
}

/** The config's links with the marks an apply gives them now (the last apply's marks are kept). */
async function linksOf(request: WatchRequest): Promise<FailoverLink[]> {
  const desired = await loadDesired(request.configPath, { previousMarks: marksOf(await readState(request.runDir)) });
  return desired.model.links.map((l) => ({ name: l.name, interface: l.interface, mark: l.mark, priority: l.priority, health: l.health }));
}

/** A bad config on reload is logged and the running one kept: the daemon never dies of one. */
async function reload(failover: Failover, request: WatchRequest, log: (line: string) => void): Promise<void> {
  let links: FailoverLink[];
  try {
    links = await linksOf(request);
  } catch (error) {
    log(`SIGHUP: config not reloaded, the running one is kept: ${errorMessage(error)}`);
    return;
  }
  await failover.reload(links, request.configPath);
  log(`SIGHUP: reloaded ${request.configPath} (${links.length} link${links.length === 1 ? '' : 's'})`);
}

function describeStart(links: readonly FailoverLink[]): string {
  const checked = links.filter((l) => l.health.enabled);
  if (!checked.length) return 'watching: no link has health check targets, so every link counts as up';
  const parts = checked.map((l) => `${l.name} (${l.health.method} ${l.health.targets.join(',')} every ${l.health.interval} s)`);
  return `watching ${parts.join(', ')}`;
}

/** Two daemons on one run dir would undo each other's applies. */
async function refuseSecondWatch(runDir: string): Promise<void> {
  const previous = await readHealthFile(runDir).catch(() => null);
  if (previous && previous.pid !== process.pid && processAlive(previous.pid) && previous.stopped === undefined) {
    throw runtimeError(`another mwan watch (pid ${previous.pid}) is running for ${runDir}`);
  }
}
