import { inject, injectable } from 'tsyringe';
import { hex, MwanError, runtimeError, sysctlName } from '@mwan/core';
import { commandLine, Conntrack, IpRoute2, NftTable, assertTablesFree, SYSCTLS, type RouteEntry, type RuleEntry, type SysctlStore } from '@mwan/iproute2';
import { loadDesired, marksOf, type Desired } from './desired.js';
import { entriesFromKernel, entriesFromSpecs, planIp, readIpState, syncIp, type IpPlan, type IpState } from './ip-sync.js';
import { acquireLock } from './lock.js';
import { fingerprintListed, fingerprintRendered } from './nft-fingerprint.js';
import {
  readJournal, readState, recordedSysctls, removeJournal, writeJournal, writeState,
  type Journal, type LinkState, type MwanState, type Snapshot,
} from './state-file.js';
import { planSysctls, type SysctlPlan, type SysctlWrite } from './sysctl-plan.js';

export interface ApplyRequest {
  configPath: string;
  runDir: string;
  strategy?: string;
  dryRun?: boolean;
  keepConnections?: boolean;
  waitSeconds: number;
  /** Only these links take new connections (health checks); default all. */
  active?: readonly string[];
}

export interface ApplyReport {
  dryRun: boolean;
  strategy: string;
  links: LinkState[];
  /** Every change, in order, as the command that makes it. */
  actions: string[];
  nftLoaded: boolean;
  conntrackDeleted: Record<string, number>;
  /** An earlier apply was interrupted (its journal was still there) and has been repaired. */
  repaired: boolean;
  /** Notes for the user that are not failures. */
  notes: string[];
}

/** The steps of an apply, in order; a failure names the one it happened in. */
export const APPLY_STEPS = ['check', 'lock', 'snapshot', 'journal', 'routes', 'rules', 'nft', 'stale rules', 'stale routes', 'conntrack', 'sysctls', 'state'] as const;
export type ApplyStep = (typeof APPLY_STEPS)[number];

interface Plan {
  desired: Desired;
  previous: MwanState | null;
  journal: Journal | null;
  snapshot: Snapshot;
  ip: IpPlan;
  reloadNft: boolean;
  flushMarks: number[];
  sysctls: SysctlPlan;
}

/**
 * Applies a config so that live traffic keeps flowing: new routes and rules exist before the nft
 * table that marks packets for them is swapped in (one transaction), and stale ones go only
 * after. Any failure restores the snapshot taken before the first change.
 */
@injectable()
export class ApplyEngine {
  constructor(
    @inject(IpRoute2) private readonly ip: IpRoute2,
    @inject(NftTable) private readonly nft: NftTable,
    @inject(Conntrack) private readonly conntrack: Conntrack,
    @inject(SYSCTLS) private readonly sysctls: SysctlStore,
  ) {}

  async apply(request: ApplyRequest): Promise<ApplyReport> {
    // Render and check before the lock: a bad config or ruleset never waits for, or blocks, anyone.
    let previous = await readState(request.runDir);
    let desired = await loadDesired(request.configPath, { strategy: request.strategy, previousMarks: marksOf(previous), active: request.active });
    await this.step('check', () => this.nft.check(desired.rendered.nft));
    if (request.dryRun) return this.dryRun(request, desired, previous);

    const lock = await this.step('lock', () => acquireLock(request.runDir, { waitSeconds: request.waitSeconds }));
    try {
      // Another apply may have finished while we waited: its marks are the ones to keep.
      const latest = await readState(request.runDir);
      if (latest?.applied !== previous?.applied) {
        previous = latest;
        desired = await loadDesired(request.configPath, { strategy: request.strategy, previousMarks: marksOf(previous), active: request.active });
        await this.step('check', () => this.nft.check(desired.rendered.nft));
      }
      return await this.applyLocked(request, desired, previous);
    } finally {
      await lock.release();
    }
  }

  private async dryRun(request: ApplyRequest, desired: Desired, previous: MwanState | null): Promise<ApplyReport> {
    const journal = await readJournal(request.runDir);
    const { plan } = await this.plan(desired, previous, journal, request);
    const actions = this.actionsOf(plan, desired);
    return this.report(desired, plan, actions, { dryRun: true, conntrackDeleted: {} });
  }

  private async plan(desired: Desired, previous: MwanState | null, journal: Journal | null, request: ApplyRequest): Promise<{ plan: Plan; state: IpState }> {
    const [table, state] = await this.step('snapshot', () => Promise.all([this.nft.current(), readIpState(this.ip)]));
    assertTablesFree(desired.rendered.routes.map((r) => r.table), state.routes);
    const snapshot: Snapshot = { nft: table, rules: state.ownedRules, routes: state.ownedRoutes };
    const target = entriesFromSpecs(desired.rendered.rules, desired.rendered.routes);
    const sysctls = await this.step('snapshot', () => planSysctls(this.sysctls, desired.rendered.sysctls, recordedSysctls(previous, journal)));
    const plan: Plan = {
      desired,
      previous,
      journal,
      snapshot,
      ip: planIp(target.rules, target.routes, state),
      reloadNft: needsReload(desired, previous, table),
      flushMarks: request.keepConnections ? [] : marksToFlush(desired, previous, state),
      sysctls,
    };
    return { plan, state };
  }

  private async applyLocked(request: ApplyRequest, desired: Desired, previous: MwanState | null): Promise<ApplyReport> {
    const journal = await readJournal(request.runDir);
    const notes = journal ? [`an earlier apply (pid ${journal.pid}, ${journal.started}) stopped during "${journal.step}"; repaired from the kernel's state`] : [];
    const { plan } = await this.plan(desired, previous, journal, request);
    const actions = this.actionsOf(plan, desired);
    const newJournal: Journal = {
      version: 1, pid: process.pid, started: new Date().toISOString(), step: 'journal', snapshot: plan.snapshot,
      pendingSysctls: [...(journal?.pendingSysctls ?? [])],
    };
    await this.step('journal', () => writeJournal(request.runDir, newJournal));

    const progress = { nftLoaded: false, sysctlsWritten: [] as SysctlWrite[] };
    const conntrackDeleted: Record<string, number> = {};
    let listed: string | null = plan.snapshot.nft;
    let current: ApplyStep = 'routes';
    const enter = async (step: ApplyStep) => {
      current = step;
      newJournal.step = step;
      await writeJournal(request.runDir, newJournal);
    };
    try {
      await enter('routes');
      await this.ip.ipAll(plan.ip.routes.replace.map((r) => r.replace));
      await enter('rules');
      await this.ip.ipAll(plan.ip.rules.add.map((r) => r.add));
      await enter('nft');
      if (plan.reloadNft) {
        progress.nftLoaded = true;
        await this.nft.load(desired.rendered.nft);
        listed = await this.nft.current();
      }
      await enter('stale rules');
      await this.ip.ipAll(plan.ip.rules.remove.map((r) => r.del));
      await enter('stale routes');
      await this.ip.ipAll(plan.ip.routes.remove.map((r) => r.del));
      await enter('conntrack');
      for (const mark of plan.flushMarks) conntrackDeleted[hex(mark)] = await this.conntrack.deleteMark(mark);
      // The journal learns the previous values before they are overwritten.
      newJournal.pendingSysctls = mergeRecords(newJournal.pendingSysctls, plan.sysctls.records);
      await enter('sysctls');
      for (const write of plan.sysctls.writes) {
        progress.sysctlsWritten.push(write);
        await this.sysctls.write(write.path, write.value);
      }
      await enter('state');
      await writeState(request.runDir, this.stateOf(request, desired, plan, listed));
    } catch (error) {
      const rollbackProblems = await this.rollback(plan.snapshot, progress);
      if (!rollbackProblems.length) await removeJournal(request.runDir);
      throw failure(current, error, rollbackProblems);
    }
    await removeJournal(request.runDir);
    return this.report(desired, plan, actions, { dryRun: false, conntrackDeleted, notes, repaired: journal !== null });
  }

  /** Back to the snapshot: sysctls, the nft table (one transaction), then rules and routes as they were. */
  private async rollback(snapshot: Snapshot, progress: { nftLoaded: boolean; sysctlsWritten: SysctlWrite[] }): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, action: () => Promise<unknown>) => {
      try {
        await action();
      } catch (error) {
        problems.push(`${what}: ${messageOf(error).replace(/\s*\n\s*/g, ' ')}`);
      }
    };
    for (const write of [...progress.sysctlsWritten].reverse()) {
      await attempt(`sysctl ${sysctlName(write.path)}`, () => this.sysctls.write(write.path, write.before));
    }
    if (progress.nftLoaded) await attempt('nft table', () => this.nft.load(NftTable.restoreScript(snapshot.nft)));
    await attempt('rules and routes', () => syncIp(this.ip, entriesFromKernel(snapshot.rules, snapshot.routes)));
    return problems;
  }

  private stateOf(request: ApplyRequest, desired: Desired, plan: Plan, listed: string | null): MwanState {
    return {
      version: 1,
      applied: new Date().toISOString(),
      pid: process.pid,
      config: desired.configPath,
      strategy: desired.model.strategy.name,
      links: linksOf(desired),
      sysctls: plan.sysctls.records,
      nft: { rendered: fingerprintRendered(desired.rendered.nft), listed: listed === null ? '' : fingerprintListed(listed) },
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
      ...plan.flushMarks.map((m) => `conntrack -D -m ${m}`),
      ...plan.sysctls.writes.map((w) => `sysctl -w ${sysctlName(w.path)}=${w.value}  # was ${w.before}`),
    ];
  }

  private report(desired: Desired, plan: Plan, actions: string[], extra: { dryRun: boolean; conntrackDeleted: Record<string, number>; notes?: string[]; repaired?: boolean }): ApplyReport {
    return {
      dryRun: extra.dryRun,
      strategy: desired.model.strategy.name,
      links: linksOf(desired),
      actions,
      nftLoaded: plan.reloadNft,
      conntrackDeleted: extra.conntrackDeleted,
      repaired: extra.repaired ?? false,
      notes: extra.notes ?? [],
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
  return desired.model.links.map((l) => ({
    name: l.name, interface: l.interface, mark: l.mark, table: l.table, weight: l.weight,
    ...(l.gateway !== undefined ? { gateway: l.gateway } : {}),
  }));
}

/** Reload unless the table is exactly what this same text produced last time (counters survive). */
function needsReload(desired: Desired, previous: MwanState | null, table: string | null): boolean {
  if (table === null || !previous?.nft) return true;
  return previous.nft.rendered !== fingerprintRendered(desired.rendered.nft) || previous.nft.listed !== fingerprintListed(table);
}

/**
 * Marks whose connections can no longer go the way they went: the link is gone, or its mark now
 * belongs to another link or interface. Marks seen on owned rules count too, for runs whose
 * state file was lost.
 */
function marksToFlush(desired: Desired, previous: MwanState | null, state: IpState): number[] {
  const before = new Map<number, LinkState | undefined>();
  for (const rule of state.ownedRules) if (rule.fwmark !== undefined) before.set(Number(rule.fwmark), undefined);
  for (const link of previous?.links ?? []) before.set(link.mark, link);
  const now = new Map(desired.model.links.map((l) => [l.mark, l]));
  return [...before]
    .filter(([mark, old]) => {
      const link = now.get(mark);
      return !link || (old !== undefined && (old.name !== link.name || old.interface !== link.interface));
    })
    .map(([mark]) => mark)
    .sort((a, b) => a - b);
}

function mergeRecords(a: readonly { path: string }[], b: readonly { path: string; value: string; previous: string }[]) {
  const out = new Map<string, { path: string; value: string; previous: string }>();
  for (const record of [...a, ...b] as { path: string; value: string; previous: string }[]) if (!out.has(record.path)) out.set(record.path, record);
  return [...out.values()];
}

const messageOf = (error: unknown) => (error instanceof MwanError ? error.problems.join('; ') : (error as Error)?.message ?? String(error));

function failure(step: string, error: unknown, rollbackProblems: readonly string[]): MwanError {
  if (error instanceof MwanError && error.code !== 'runtime') return error;
  const lines = [`apply failed at step "${step}": ${messageOf(error)}`];
  if (step === 'check' || step === 'lock' || step === 'snapshot') lines.push('nothing was changed');
  else if (rollbackProblems.length) lines.push(`rolling back failed too (${rollbackProblems.join('; ')}); run "mwan apply" again or "mwan down"`);
  else lines.push('the previous state was restored');
  return new MwanError('runtime', lines, { cause: error });
}
