import {
  ownedByMwan, planRoutes, planRules, routeEntryFromKernel, routeEntryFromSpec, ruleEntryFromKernel, ruleEntryFromSpec,
  type IpRoute2, type KernelRoute, type KernelState, type KernelRule, type RouteEntry, type RoutePlan, type RuleEntry, type RulePlan,
} from '@mwan/iproute2';
import type { RouteSpec, RuleSpec } from '@mwan/core';

/** The kernel's routing state: everything, and what of it mwan owns. */
export interface IpState {
  rules: KernelRule[];
  routes: KernelRoute[];
  ownedRules: KernelRule[];
  ownedRoutes: KernelRoute[];
}

export async function readIpState(ip: IpRoute2): Promise<IpState> {
  return ipStateOf(await ip.state());
}

export function ipStateOf({ rules, routes }: Pick<KernelState, 'rules' | 'routes'>): IpState {
  return { rules, routes, ownedRules: rules.filter(ownedByMwan), ownedRoutes: routes.filter(ownedByMwan) };
}

export interface IpPlan {
  rules: RulePlan;
  routes: RoutePlan;
}

export function planIp(desiredRules: readonly RuleEntry[], desiredRoutes: readonly RouteEntry[], state: IpState): IpPlan {
  return {
    rules: planRules(desiredRules, state.ownedRules.map(ruleEntryFromKernel)),
    routes: planRoutes(desiredRoutes, state.ownedRoutes.map(routeEntryFromKernel)),
  };
}

export const entriesFromSpecs = (rules: readonly RuleSpec[], routes: readonly RouteSpec[]) => ({
  rules: rules.map(ruleEntryFromSpec),
  routes: routes.map(routeEntryFromSpec),
});

export const entriesFromKernel = (rules: readonly KernelRule[], routes: readonly KernelRoute[]) => ({
  rules: rules.map(ruleEntryFromKernel),
  routes: routes.map(routeEntryFromKernel),
});

export interface IpTarget {
  rules: RuleEntry[];
  routes: RouteEntry[];
}

/**
 * First half of putting the owned rules and routes back to `target`: what is missing is added,
 * nothing is taken away yet, so packets the nft table sends to a table always find its route.
 * Returns the commands that failed; one failure does not stop the rest.
 */
export async function syncIpAdditions(ip: IpRoute2, target: IpTarget): Promise<string[]> {
  const plan = planIp(target.rules, target.routes, await readIpState(ip));
  return failuresOf(await ip.ipEach([...plan.routes.replace.map((r) => r.replace), ...plan.rules.add.map((r) => r.add)]));
}

/**
 * Second half: what `target` does not have is removed, then rules that came back in another
 * order are put in the target's order, so `ip rule` reads exactly as it did.
 */
export async function syncIpRemovals(ip: IpRoute2, target: IpTarget): Promise<string[]> {
  const plan = planIp(target.rules, target.routes, await readIpState(ip));
  const problems = failuresOf(await ip.ipEach([...plan.rules.remove.map((r) => r.del), ...plan.routes.remove.map((r) => r.del)]));
  const current = (await readIpState(ip)).ownedRules.map(ruleEntryFromKernel);
  const moves = reorderCommands(target.rules, current);
  if (moves.length) problems.push(...failuresOf(await ip.ipEach(moves)));
  return problems;
}

const priorityOf = (rule: RuleEntry) => Number(/^pref (\d+)/.exec(rule.key)?.[1] ?? -1);

/**
 * The kernel keeps rules of one priority in the order they were added, so a rule put back after
 * it was removed comes last. From the first rule out of place on, each rule is deleted and added
 * again in the target's order: a delete and its add are neighbours in one batch, so a mark is
 * without its rule only for the moment between them. Priorities whose rules differ in more than
 * order are left alone: there is no exact order to restore.
 */
export function reorderCommands(target: readonly RuleEntry[], current: readonly RuleEntry[]): string[][] {
  const commands: string[][] = [];
  for (const priority of new Set(target.map(priorityOf))) {
    const want = target.filter((r) => priorityOf(r) === priority);
    const have = current.filter((r) => priorityOf(r) === priority);
    const keys = (rules: readonly RuleEntry[]) => rules.map((r) => r.key);
    if (keys(want).join('\n') === keys(have).join('\n')) continue;
    if ([...keys(want)].sort().join('\n') !== [...keys(have)].sort().join('\n')) continue;
    let first = 0;
    while (want[first].key === have[first].key) first++;
    for (const rule of want.slice(first)) commands.push(rule.del, rule.add);
  }
  return commands;
}

function failuresOf(failures: readonly { args: readonly string[]; message: string }[]): string[] {
  return failures.map((f) => `ip ${f.args.join(' ')}: ${f.message}`);
}
