import { MwanError } from '@mwan/core';
import type { KernelRoute, RouteEntry } from './kernel-routes.js';
import { routeTable } from './kernel-routes.js';
import type { RuleEntry } from './kernel-rules.js';
import { ownedByMwan } from './ownership.js';

export interface RulePlan {
  add: RuleEntry[];
  remove: RuleEntry[];
}

export interface RoutePlan {
  replace: RouteEntry[];
  remove: RouteEntry[];
}

/**
 * Adds the desired rules that are missing and removes owned rules nobody wants any more. A rule
 * present twice counts twice, so duplicates left by an interrupted run are removed as well.
 */
export function planRules(desired: readonly RuleEntry[], owned: readonly RuleEntry[]): RulePlan {
  const wanted = new Map<string, number>();
  for (const rule of desired) wanted.set(rule.key, (wanted.get(rule.key) ?? 0) + 1);
  const remaining = new Map(wanted);
  const remove: RuleEntry[] = [];
  for (const rule of owned) {
    const left = remaining.get(rule.key) ?? 0;
    if (left > 0) remaining.set(rule.key, left - 1);
    else remove.push(rule);
  }
  const add: RuleEntry[] = [];
  for (const rule of desired) {
    const left = remaining.get(rule.key) ?? 0;
    if (left > 0) {
      add.push(rule);
      remaining.set(rule.key, left - 1);
    }
  }
  return { add, remove };
}

/**
 * Replaces desired routes that are missing or different; removes owned routes in slots nobody
 * wants (a replaced route is already gone, deleting it again would fail).
 */
export function planRoutes(desired: readonly RouteEntry[], owned: readonly RouteEntry[]): RoutePlan {
  const present = new Set(owned.map((r) => r.key));
  const slots = new Set(desired.map((r) => r.slot));
  return {
    replace: desired.filter((r) => !present.has(r.key)),
    remove: owned.filter((r) => !slots.has(r.slot)),
  };
}

/**
 * A table that already holds routes mwan did not create belongs to someone else: replacing its
 * default route would silently break their routing.
 */
export function assertTablesFree(tables: readonly number[], routes: readonly KernelRoute[]): void {
  const wanted = new Set(tables.map(String));
  const problems = new Map<string, string[]>();
  for (const route of routes) {
    const table = routeTable(route);
    if (!wanted.has(table) || ownedByMwan(route)) continue;
    const list = problems.get(table) ?? [];
    list.push(`${route.dst}${route.gateway ? ` via ${route.gateway}` : ''}${route.dev ? ` dev ${route.dev}` : ''}${route.protocol ? ` proto ${route.protocol}` : ''}`);
    problems.set(table, list);
  }
  if (problems.size) {
    throw new MwanError('runtime', [...problems].map(([table, list]) =>
      `routing table ${table} holds routes mwan did not create (${list.slice(0, 3).join('; ')}${list.length > 3 ? '; ...' : ''}); give the link another "table" or empty that table`));
  }
}
