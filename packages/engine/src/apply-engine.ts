import { randomUUID } from 'node:crypto';
import { errorMessage, hex, MwanError, runtimeError, sysctlName, type LinkDownReason, type LinkModel, type SysctlSpec } from '@mwan/core';
import { commandLine, Conntrack, IpRoute2, NftTable, type KernelState, type NftLoader, type RouteEntry, type RuleEntry, type SysctlStore } from '@mwan/iproute2';
import { decide, sysctlPathsOf, type Decision, type History, type Observed } from './decide.js';
import { loadDesired, marksOf, type Desired } from './desired.js';
import { ipStateOf } from './ip-sync.js';
import type { KernelCache, KernelView } from './kernel-cache.js';
import { acquireLock, lockHolder, processAlive } from './lock.js';
import { fingerprintListed, fingerprintRendered, withoutLiveAdditions } from './nft-fingerprint.js';
import {
  mergeSysctlWrites, readPendingConfirm, removePendingConfirm, writePendingConfirm, type HeldConfigRecord, type PendingConfirm,
} from './pending-confirm.js';
import { restoreSnapshot } from './restore.js';
import type { RevertTimer } from './revert-timer.js';
import {
  readJournal, readState, recordedSysctls, removeJournal, writeJournal, writeState,
  type Journal, type LinkState, type MwanState, type Snapshot,
} from './state-file.js';
import { decideSysctls, missingSysctl, readSysctls, sysctlPathsFor, type SysctlWrite } from './sysctl-plan.js';

export interface ApplyRequest {
  configPath: string;
  /**
   * The config's text, when it is not the file's as it is now: the daemon keeps applying the
   * config a `--confirm` revert went back to, whatever the file says since.
   */
  configText?: string;
  runDir: string;
  strategy?: string;
  dryRun?: boolean;
  keepConnections?: boolean;
  waitSeconds: number;
  /** Only these links take new connections (health checks); default all. */
  active?: readonly string[];
  /** Links whose health checks pass (`mwan watch`): rules' own links are chosen among them; default all. */
  healthy?: readonly string[];
  /** `--confirm SECONDS`: revert to the state before unless `mwan confirm` runs in time. */
  confirmSeconds?: number;
  /**
   * A repair by `mwan watch`: skipped when, once the lock is held, there is no state.json and no
   * table (`mwan down` ran since the difference was found).
   */
  repair?: boolean;
  /**
   * Called once the new table is in place, before the steps after it (stale rules and routes,
   * conntrack, sysctls, state.json): the daemon times its reloads up to there.
   */
  onSwapped?: () => void;
  /**
   * The daemon's last read of the kernel, while no event has said it changed: the apply starts
   * from it instead of reading again, and throws it away before its first change.
   */
  kernelCache?: KernelCache;
  /** What loads the table: the daemon's running `nft -i`; default `nft -f`. */
  nftLoader?: NftLoader;
  /** With `--confirm` through the daemon: the config it holds now, recorded for a revert (see PendingConfirm.held). */
  heldBefore?: HeldConfigRecord;
}

export interface ApplyReport {
  dryRun: boolean;
  strategy: string;
  /** The links applied. */
  links: LinkState[];
  /** The config's links left out: their interface cannot carry traffic now (absent, no carrier …). */
  down: LeftOut[];
  /** Every change, in order, as the command that makes it. */
  actions: string[];
  nftLoaded: boolean;
  conntrackDeleted: Record<string, number>;
  /** An earlier apply was interrupted (its journal was still there) and has been repaired. */
  repaired: boolean;
  /** Notes for the user that are not failures. */
  notes: string[];
  /** With `--confirm`: when the change is reverted unless confirmed. */
  confirm?: { deadline: string; seconds: number };
}

export interface LeftOut {
  name: string;
  interface: string;
  reason: LinkDownReason;
  detail: string;
}

/** What the locked part of an apply tells the rest: whether it kept its view of the kernel, and from when that view was. */
interface LockedOutcome {
  kept: boolean;
  /** KernelCache generation when the view was got (from the cache or a read started then). */
  viewGeneration: number | undefined;
}

/** The steps of an apply, in order; a failure names the one it happened in. */
export const APPLY_STEPS = ['check', 'lock', 'snapshot', 'journal', 'confirm', 'routes', 'rules', 'nft', 'stale rules', 'stale routes', 'conntrack', 'sysctls', 'state'] as const;
export type ApplyStep = (typeof APPLY_STEPS)[number];

/** The decision, with what it was made from that the apply needs too. */
interface Plan extends Decision {
  desired: Desired;
  previous: MwanState | null;
  journal: Journal | null;
  pendingConfirm: PendingConfirm | null;
  snapshot: Snapshot;
}

/**
 * Applies a config so that live traffic keeps flowing: new routes and rules exist before the nft
 * table that marks packets for them is swapped in (one transaction), and stale ones go only
 * after. Any failure restores the snapshot taken before the first change.
 */
export class ApplyEngine {
  constructor(
    private readonly ip: IpRoute2,
    private readonly nft: NftTable,
    private readonly conntrack: Conntrack,
    private readonly sysctls: SysctlStore,
    private readonly timer: RevertTimer,
  ) {}

  async apply(request: ApplyRequest): Promise<ApplyReport> {
    // Load and render before the lock: a bad config never waits for, or blocks, anyone.
    let previous = await readState(request.runDir);
    // One read of the kernel serves the whole apply: which links can carry traffic, and the
    // snapshot to decide on and to restore. It is made once the config is known to be good, and
    // made again only when another mwan may have changed things while this one waited for the lock.
    let kernel: KernelView | undefined;
    // What each interface can do now: a link whose interface cannot carry traffic is left out, not an error.
    const desire = async (state: MwanState | null, interfaces: () => Promise<KernelState['interfaces']>) => this.step('check', () => loadDesired(request.configPath, {
      configText: request.configText, strategy: request.strategy, previousMarks: marksOf(state), active: request.active,
      ...(request.healthy ? { healthy: request.healthy } : {}),
      interfaces,
    }));
    const cache = request.kernelCache;
    // The cache's generation when the view the apply decides on was got: an apply keeps what
    // it left only if nothing was heard from then until its first change.
    const outcome: LockedOutcome = { kept: false, viewGeneration: cache?.current };
    const read = () => {
      outcome.viewGeneration = cache?.current;
      return cache ? cache.read(() => this.readKernel(request.nftLoader)) : this.readKernel(request.nftLoader);
    };
    kernel = cache?.get();
    let desired = await desire(previous, async () => (kernel ??= await read()).ip.interfaces);
    kernel ??= await this.step('snapshot', read);
    if (request.dryRun) {
      await this.step('check', () => this.nft.check(desired.rendered.nft));
      return this.dryRun(request, desired, previous, kernel);
    }

    const lock = await this.step('lock', () => acquireLock(request.runDir, { waitSeconds: request.waitSeconds }));
    try {
      // Another apply may have finished while we waited: its marks are the ones to keep.
      const latest = await readState(request.runDir);
      const outOfDate = lock.waited || latest?.applied !== previous?.applied;
      // Afresh, not from the cache: the other holder's events may not have come yet.
      if (outOfDate) {
        outcome.viewGeneration = cache?.current;
        kernel = await this.step('snapshot', () => this.readKernel(request.nftLoader));
      }
      const view = kernel;
      if (request.repair && latest === null && view.table === null) {
        return {
          dryRun: false, strategy: desired.model.strategy.name, links: [], down: [], actions: [], nftLoaded: false, conntrackDeleted: {}, repaired: false,
          notes: ['mwan down ran meanwhile: nothing repaired, the router is left as down left it'],
        };
      }
      if (outOfDate) {
        previous = latest;
        desired = await desire(previous, async () => view.ip.interfaces);
      }
      return await this.applyLocked(request, desired, previous, view, outcome);
    } finally {
      // A read made meanwhile (a drift check given up on) may have seen the apply half done;
      // what the apply knows it left is kept instead.
      if (!outcome.kept) request.kernelCache?.invalidate();
      await lock.release();
    }
  }

  /** mwan's table and the routing side at once: three processes started together (two with the daemon's nft -i). */
  private async readKernel(loader: NftLoader = this.nft): Promise<KernelView> {
    const [table, ip] = await Promise.all([loader.current(), this.ip.state()]);
    return { table, ip };
  }

  /**
   * What an apply would change now, read afresh from the config and the kernel (interfaces,
   * table, rules, routes, sysctls) without the nft check, the lock or any write: the daemon's
   * drift check. Empty when the kernel is as the config and the links' interfaces want it.
   */
  async drift(request: Pick<ApplyRequest, 'configPath' | 'configText' | 'strategy' | 'runDir' | 'active' | 'healthy' | 'kernelCache' | 'nftLoader'>): Promise<{ changes: string[]; sysctls: SysctlSpec[] }> {
    // Another mwan in the middle of an apply or a down: what it has done so far is no drift. Its
    // own events, or the next check, look again once it is done.
    if ((await lockHolder(request.runDir)) !== undefined) return { changes: [], sysctls: [] };
    const previous = await readState(request.runDir);
    // Always afresh, a missed event included; kept for the next apply.
    const readKernel = () => this.readKernel(request.nftLoader);
    const kernel = await (request.kernelCache ? request.kernelCache.read(readKernel) : readKernel());
    // No state and no table: `mwan down` ran. That is left alone until the next change or reload.
    if (previous === null && kernel.table === null) return { changes: [], sysctls: [] };
    const desired = await loadDesired(request.configPath, {
      configText: request.configText, strategy: request.strategy, previousMarks: marksOf(previous), active: request.active,
      ...(request.healthy ? { healthy: request.healthy } : {}), interfaces: async () => kernel.ip.interfaces,
    });
    const journal = await readJournal(request.runDir);
    const { plan } = await this.plan(desired, previous, journal, { ...request, waitSeconds: 0, keepConnections: true }, kernel);
    return { changes: this.actionsOf(plan, desired), sysctls: desired.rendered.sysctls };
  }

  /**
   * The sysctl part of `drift` alone, for sysctls that `drift` last found wanted: it reads only
   * /proc/sys, so it can run every second (a sysctl write sends no netlink event).
   */
  async sysctlDrift(sysctls: readonly SysctlSpec[], runDir: string): Promise<string[]> {
    const recorded = recordedSysctls(await readState(runDir), null);
    const observed = await readSysctls(this.sysctls, sysctlPathsFor(sysctls, recorded));
    // The sysctl part of `decide`. An interface that went away since takes its sysctls with it
    // (they are absent, not planned): the full check sees to the link.
    return decideSysctls(sysctls, observed, recorded).writes.map((w) => `sysctl -w ${sysctlName(w.path)}=${w.value}  # was ${w.before}`);
  }

  private async dryRun(request: ApplyRequest, desired: Desired, previous: MwanState | null, kernel: KernelView): Promise<ApplyReport> {
    const journal = await readJournal(request.runDir);
    const { plan } = await this.plan(desired, previous, journal, request, kernel);
    const actions = this.actionsOf(plan, desired);
    return this.report(desired, plan, actions, { dryRun: true, conntrackDeleted: {}, notes: ipv6Notes(desired) });
  }

  private async plan(desired: Desired, previous: MwanState | null, journal: Journal | null, request: ApplyRequest, kernel: KernelView): Promise<{ plan: Plan }> {
    const history: History = { previous, journal };
    const observed = await this.step('snapshot', () => this.observe(desired, history, kernel));
    const decision = decide(desired, observed, history, { keepConnections: request.keepConnections });
    const absent = decision.sysctls.absent[0];
    if (absent) throw failure('snapshot', runtimeError(missingSysctl(absent)), []);
    const pendingConfirm = await this.step('snapshot', () => readPendingConfirm(request.runDir));
    const snapshot: Snapshot = { nft: observed.table, rules: observed.ip.ownedRules, routes: observed.ip.ownedRoutes };
    return { plan: { desired, previous, journal, pendingConfirm, snapshot, ...decision } };
  }

  /** Everything `decide` looks at: the kernel as read, and the sysctls the desired state names. */
  private async observe(desired: Desired, history: History, { table, ip: kernel }: KernelView): Promise<Observed> {
    const ip = ipStateOf(kernel);
    const sysctls = await readSysctls(this.sysctls, sysctlPathsOf(desired, history));
    // What a running `mwan trace` or `mwan use` added is theirs; left by a dead one, it goes.
    return { table, tableWithoutLive: table === null ? null : withoutLiveAdditions(table, processAlive), ip, sysctls };
  }

  private async applyLocked(request: ApplyRequest, desired: Desired, previous: MwanState | null, kernel: KernelView, outcome: LockedOutcome): Promise<ApplyReport> {
    const journal = await readJournal(request.runDir);
    const notes = [
      ...(journal ? [`an earlier apply (pid ${journal.pid}, ${journal.started}) stopped during "${journal.step}"; repaired from the kernel's state`] : []),
      ...ipv6Notes(desired),
    ];
    const { plan } = await this.plan(desired, previous, journal, request, kernel);
    const actions = this.actionsOf(plan, desired);
    // `nft -f` is one transaction: a ruleset it refuses changes nothing. With no route or rule
    // added before it (a reload that changes the strategy or weights), the load itself is the
    // check; otherwise the ruleset is checked before the first change, as is one with --confirm.
    const loadChecks = !plan.ip.routes.replace.length && !plan.ip.rules.add.length && request.confirmSeconds === undefined;
    if (plan.reloadNft && !loadChecks) await this.step('check', () => this.nft.check(desired.rendered.nft));
    const newJournal: Journal = {
      version: 1, pid: process.pid, started: new Date().toISOString(), step: 'journal', snapshot: plan.snapshot,
      pendingSysctls: [...(journal?.pendingSysctls ?? [])],
      // Links of an earlier interrupted run stay listed: its table may still have marked connections.
      links: mergeLinks(journal?.links ?? [], linksOf(desired)),
    };
    await this.step('journal', () => writeJournal(request.runDir, newJournal));

    const progress = { nftLoaded: false, sysctlsWritten: [] as SysctlWrite[] };
    const conntrackDeleted: Record<string, number> = {};
    let listed: string | null = plan.snapshot.nft;
    let current: ApplyStep = 'confirm';
    let pending: PendingConfirm | null = null;
    // The journal names the step a killed apply stopped in; a step with nothing to do changes
    // nothing to stop in, so it is not written for (a table of 64 links is 60 KB of journal).
    const enter = async (step: ApplyStep, work: boolean) => {
      current = step;
      newJournal.step = step;
      if (work) await writeJournal(request.runDir, newJournal);
    };
    // From here the kernel is no longer as read. Its own invalidate is the only one since the
    // view was got, or the view may be out of date and nothing is kept.
    const generation = request.kernelCache?.invalidate();
    const fresh = generation !== undefined && outcome.viewGeneration !== undefined && generation === outcome.viewGeneration + 1;
    const loader = request.nftLoader ?? this.nft;
    try {
      await enter('confirm', request.confirmSeconds !== undefined || plan.pendingConfirm !== null);
      pending = await this.recordForRevert(request, plan, notes);
      await enter('routes', plan.ip.routes.replace.length > 0);
      await this.ip.ipAll(plan.ip.routes.replace.map((r) => r.replace));
      await enter('rules', plan.ip.rules.add.length > 0);
      await this.ip.ipAll(plan.ip.rules.add.map((r) => r.add));
      await enter('nft', plan.reloadNft);
      if (plan.reloadNft) {
        progress.nftLoaded = true;
        const refused = await loader.tryLoad(desired.rendered.nft + (await this.stickySources(desired)));
        if (refused !== undefined) {
          // Nothing of a refused transaction is loaded.
          progress.nftLoaded = false;
          if (loadChecks) current = 'check';
          throw runtimeError(`${loadChecks ? 'nft rejected the ruleset' : 'nft -f failed'}:\n${refused}`);
        }
        request.onSwapped?.();
        listed = await loader.current();
      }
      await enter('stale rules', plan.ip.rules.remove.length > 0);
      await this.ip.ipAll(plan.ip.rules.remove.map((r) => r.del));
      await enter('stale routes', plan.ip.routes.remove.length > 0);
      await this.ip.ipAll(plan.ip.routes.remove.map((r) => r.del));
      await enter('conntrack', plan.flushMarks.length > 0);
      for (const mark of plan.flushMarks) conntrackDeleted[hex(mark)] = await this.conntrack.deleteMark(mark, desired.model.markMask);
      // The journal learns the previous values before they are overwritten.
      newJournal.pendingSysctls = mergeRecords(newJournal.pendingSysctls, plan.sysctls.records);
      await enter('sysctls', plan.sysctls.writes.length > 0);
      for (const write of plan.sysctls.writes) {
        progress.sysctlsWritten.push(write);
        await this.sysctls.write(write.path, write.value);
      }
      await enter('state', true);
      await writeState(request.runDir, this.stateOf(request, desired, plan, listed));
      // The confirmation window starts when the change is complete.
      if (pending) {
        pending = { ...pending, deadline: deadlineIn(pending.seconds) };
        await writePendingConfirm(request.runDir, pending);
      }
    } catch (error) {
      const rollbackProblems = await this.rollback(plan.snapshot, progress);
      // A failed --confirm leaves nothing to revert: the pending change before it (if any) is the one that stays.
      if (pending) {
        await (plan.pendingConfirm ? writePendingConfirm(request.runDir, plan.pendingConfirm) : removePendingConfirm(request.runDir))
          .catch((e: unknown) => rollbackProblems.push(`confirm.json: ${errorMessage(e)}`));
      }
      if (!rollbackProblems.length) await removeJournal(request.runDir);
      throw failure(current, error, rollbackProblems);
    }
    await removeJournal(request.runDir);
    // The kernel as this apply left it, when it knows: its table as listed after the swap, and
    // rules and routes as read (it changed none). Its own events say nothing new then.
    const ipChanged = [plan.ip.routes.replace, plan.ip.rules.add, plan.ip.rules.remove, plan.ip.routes.remove].some((changes) => changes.length > 0);
    if (request.kernelCache && generation !== undefined && fresh && !ipChanged) outcome.kept = request.kernelCache.keep({ table: listed, ip: kernel.ip }, generation);
    const confirm = pending ? { deadline: pending.deadline, seconds: pending.seconds } : undefined;
    return this.report(desired, plan, actions, { dryRun: false, conntrackDeleted, notes, repaired: journal !== null, confirm });
  }

  /**
   * Before the first change: with `--confirm`, what to revert to goes into confirm.json and the
   * timer is started, so even a killed apply is reverted at the deadline. Without it, a change
   * already waiting for confirmation stays pending and this apply's sysctl writes join it.
   */
  private async recordForRevert(request: ApplyRequest, plan: Plan, notes: string[]): Promise<PendingConfirm | null> {
    const earlier = plan.pendingConfirm;
    const sysctls = mergeSysctlWrites(earlier?.sysctls ?? [], plan.sysctls.writes);
    if (request.confirmSeconds === undefined) {
      if (!earlier) return null;
      await writePendingConfirm(request.runDir, { ...earlier, sysctls });
      notes.push(`a change applied with --confirm is waiting: unless "mwan confirm" runs by ${earlier.deadline}, this apply is reverted with it`);
      return null;
    }
    // The config to keep after a revert is the one held before the first unconfirmed change.
    const held = earlier ? earlier.held : request.heldBefore;
    const pending: PendingConfirm = {
      version: 1,
      token: randomUUID(),
      deadline: deadlineIn(request.confirmSeconds),
      seconds: request.confirmSeconds,
      pid: process.pid,
      // Unconfirmed changes pile up on the state before the first of them, which is where a revert goes.
      snapshot: earlier?.snapshot ?? plan.snapshot,
      previousState: earlier ? earlier.previousState : plan.previous,
      sysctls,
      ...(held ? { held } : {}),
    };
    await writePendingConfirm(request.runDir, pending);
    try {
      pending.timerPid = await this.timer.start(request.runDir, pending.token);
      await writePendingConfirm(request.runDir, pending);
    } catch (error) {
      // No timer, no --confirm: the file must not promise a revert nobody will make.
      await (earlier ? writePendingConfirm(request.runDir, earlier) : removePendingConfirm(request.runDir)).catch(() => undefined);
      throw error;
    }
    return pending;
  }

  /**
   * The sources the sticky rules remember, read from the table about to be replaced just before
   * the swap and added to the new table in the same transaction: a source keeps its link across
   * reloads, with the time it had left. Only sets the new table has: a rule's set for a link it
   * no longer uses (down, or not among its links any more) is released. A source added by a
   * connection in the few milliseconds between this read and the swap is lost (it is sticky from
   * its next connection on).
   */
  private async stickySources(desired: Desired): Promise<string> {
    const wanted = desired.rendered.sticky;
    if (!wanted.length) return '';
    const current = await this.nft.setElements();
    return NftTable.addElementsScript(wanted.map((set) => ({ ...set, elements: current[set.name] ?? [] })));
  }

  /** Back to the snapshot, in the order an apply uses: see restoreSnapshot. */
  private async rollback(snapshot: Snapshot, progress: { nftLoaded: boolean; sysctlsWritten: SysctlWrite[] }): Promise<string[]> {
    return restoreSnapshot(
      { ip: this.ip, nft: this.nft, sysctls: this.sysctls },
      { snapshot, sysctls: progress.sysctlsWritten, nft: progress.nftLoaded ? 'always' : 'never' },
    );
  }

  private stateOf(request: ApplyRequest, desired: Desired, plan: Plan, listed: string | null): MwanState {
    return {
      version: 1,
      applied: new Date().toISOString(),
      pid: process.pid,
      config: desired.configPath,
      strategy: desired.model.strategy.name,
      links: [...linksOf(desired), ...desired.down.map((d) => ({ ...linkState(d.link), down: { reason: d.reason, detail: d.detail } }))],
      sysctls: plan.sysctls.records,
      // Without what a running `mwan trace` or `mwan use` added: `needsReload` compares the same way.
      nft: { rendered: fingerprintRendered(desired.rendered.nft), listed: listed === null ? '' : fingerprintListed(withoutLiveAdditions(listed, processAlive)) },
      markMask: desired.model.markMask,
    };
  }

  private actionsOf(plan: Plan, desired: Desired): string[] {
    const ip = (args: readonly string[]) => commandLine('ip', args);
    return [
      ...plan.ip.routes.replace.map((r: RouteEntry) => ip(r.replace)),
      ...plan.ip.rules.add.map((r: RuleEntry) => ip(r.add)),
      ...(plan.reloadNft ? [`nft -f - (table inet mwan, ${desired.rendered.nft.split('\n').length - 1} lines)`] : []),
      ...plan.ip.rules.remove.map((r) => ip(r.del)),
      ...plan.ip.routes.remove.map((r) => ip(r.del)),
      ...plan.flushMarks.map((m) => `conntrack -D -m ${m}/${desired.model.markMask}`),
      ...plan.sysctls.writes.map((w) => `sysctl -w ${sysctlName(w.path)}=${w.value}  # was ${w.before}`),
    ];
  }

  private report(desired: Desired, plan: Plan, actions: string[], extra: {
    dryRun: boolean; conntrackDeleted: Record<string, number>; notes?: string[]; repaired?: boolean; confirm?: ApplyReport['confirm'];
  }): ApplyReport {
    return {
      dryRun: extra.dryRun,
      strategy: desired.model.strategy.name,
      links: linksOf(desired),
      down: desired.down.map((d) => ({ name: d.link.name, interface: d.link.interface, reason: d.reason, detail: d.detail })),
      actions,
      nftLoaded: plan.reloadNft,
      conntrackDeleted: extra.conntrackDeleted,
      repaired: extra.repaired ?? false,
      notes: extra.notes ?? [],
      ...(extra.confirm ? { confirm: extra.confirm } : {}),
    };
  }

  /** Runs one step; a runtime failure is reported under the step's name. */
  private async step<T>(name: ApplyStep, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof MwanError && error.code !== 'runtime') throw error;
      throw failure(name, error, []);
    }
  }
}

function linksOf(desired: Desired): LinkState[] {
  return desired.model.links.map((l) => {
    const left = desired.down6.find((d) => d.link.name === l.name);
    return left ? { ...linkState(l), ipv6: { down: { reason: left.reason, detail: left.detail } } } : linkState(l);
  });
}

function linkState(l: LinkModel): LinkState {
  return {
    name: l.name, interface: l.interface, mark: l.mark, table: l.table, weight: l.weight,
    ...(l.gateway !== undefined ? { gateway: l.gateway } : {}),
    ...(l.snat.kind === 'address' ? { snat: l.snat.address } : {}),
    ...(l.ipv6 ? { ipv6: { ...(l.ipv6.gateway !== undefined ? { gateway: l.ipv6.gateway } : {}) } } : {}),
  };
}

/** The links of an interrupted run and of this one, each mark with each of its holders once. */
function mergeLinks(earlier: readonly LinkState[], now: readonly LinkState[]): LinkState[] {
  const seen = new Set<string>();
  return [...earlier, ...now].filter((l) => {
    const key = `${l.mark} ${l.name} ${l.interface}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** A link applied for IPv4 only is no failure: its IPv6 side comes back with the next apply that finds it usable. */
const ipv6Notes = (desired: Desired): string[] =>
  desired.down6.map((d) => `link ${d.link.name}: IPv4 only for now, IPv6 left out: ${d.detail} (${d.reason})`);

const deadlineIn = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

function mergeRecords(a: readonly { path: string }[], b: readonly { path: string; value: string; previous: string }[]) {
  const out = new Map<string, { path: string; value: string; previous: string }>();
  for (const record of [...a, ...b] as { path: string; value: string; previous: string }[]) if (!out.has(record.path)) out.set(record.path, record);
  return [...out.values()];
}


function failure(step: string, error: unknown, rollbackProblems: readonly string[]): MwanError {
  if (error instanceof MwanError && error.code !== 'runtime') return error;
  const lines = [`apply failed at step "${step}": ${errorMessage(error)}`];
  if (step === 'check' || step === 'lock' || step === 'snapshot') lines.push('nothing was changed');
  else if (rollbackProblems.length) lines.push(`rolling back failed too (${rollbackProblems.join('; ')}); run "mwan apply" again or "mwan down"`);
  else lines.push('the previous state was restored');
  return new MwanError('runtime', lines, { cause: error });
}
