import {
  ownedByMwan, planRoutes, planRules, routeEntryFromKernel, routeEntryFromSpec, ruleEntryFromKernel, ruleEntryFromSpec,
  type IpRoute2, type KernelRoute, type KernelRule, type RouteEntry, type RoutePlan, type RuleEntry, type RulePlan,
} from '@mwan/iproute2';
import { runtimeError, type RouteSpec, type RuleSpec } from '@mwan/core';

/** The kernel's routing state: everything, and what of it mwan owns. */
export interface IpState {
  rules: KernelRule[];
  routes: KernelRoute[];
  ownedRules: KernelRule[];
  ownedRoutes: KernelRoute[];
}

export async function readIpState(ip: IpRoute2): Promise<IpState> {
  const [rules, routes] = await Promise.all([ip.rules(), ip.routes()]);
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

/** Puts the owned rules and routes back to exactly `target`: used to roll back and to repair. */
export async function syncIp(ip: IpRoute2, target: { rules: RuleEntry[]; routes: RouteEntry[] }): Promise<void> {
  const plan = planIp(target.rules, target.routes, await readIpState(ip));
  // Everything that can be put back is: one failure does not stop the rest.
  const failures = await ip.ipEach([
    ...plan.routes.replace.map((r) => r.replace),
    ...plan.rules.add.map((r) => r.add),
    ...plan.rules.remove.map((r) => r.del),
    ...plan.routes.remove.map((r) => r.del),
  ]);
  if (failures.length) throw runtimeError(failures.map((f) => `ip ${f.args.join(' ')}: ${f.message}`).join('; '));
}
