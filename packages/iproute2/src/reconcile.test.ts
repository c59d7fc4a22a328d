import { describe, expect, it } from '@jest/globals';
import { routeEntryFromKernel, routeEntryFromSpec } from './kernel-routes.js';
import { ruleEntryFromKernel, ruleEntryFromSpec } from './kernel-rules.js';
import { assertTablesFree, planRoutes, planRules } from './reconcile.js';

const spec = (mark: number) => ruleEntryFromSpec({ pref: 31001, fwmark: mark, table: 1000 + mark });
const kernel = (mark: number) => ruleEntryFromKernel({ priority: 31001, fwmark: `0x${mark.toString(16)}`, table: String(1000 + mark), protocol: '109' });

describe('planRules', () => {
  it('adds what is missing and removes owned leftovers only', () => {
    const plan = planRules([spec(1), spec(2)], [kernel(2), kernel(3)]);
    expect(plan.add.map((r) => r.key)).toEqual([spec(1).key]);
    expect(plan.remove.map((r) => r.key)).toEqual([kernel(3).key]);
  });

  it('changes nothing when the kernel already matches', () => {
    expect(planRules([spec(1), spec(2)], [kernel(2), kernel(1)])).toEqual({ add: [], remove: [] });
  });

  it('removes a duplicate left by an interrupted run', () => {
    const plan = planRules([spec(1)], [kernel(1), kernel(1)]);
    expect(plan).toEqual({ add: [], remove: [kernel(1)] });
  });
});

describe('planRoutes', () => {
  const desired = [routeEntryFromSpec({ table: 1001, dev: 'eth1', gateway: '10.37.1.1' }), routeEntryFromSpec({ table: 1002, dev: 'eth2', gateway: '10.37.2.1' })];

  it('replaces missing or changed routes and removes those in slots nobody wants', () => {
    const owned = [
      routeEntryFromKernel({ dst: 'default', gateway: '10.37.1.1', dev: 'eth1', table: '1001', protocol: '109' }),
      routeEntryFromKernel({ dst: 'default', gateway: '10.37.2.9', dev: 'eth2', table: '1002', protocol: '109' }),
      routeEntryFromKernel({ dst: 'default', gateway: '10.37.3.1', dev: 'eth3', table: '1003', protocol: '109' }),
    ];
    const plan = planRoutes(desired, owned);
    expect(plan.replace).toEqual([desired[1]]);
    // The changed route in table 1002 is overwritten by the replace, not deleted.
    expect(plan.remove).toEqual([owned[2]]);
  });
});

describe('assertTablesFree', () => {
  it('refuses a table that holds a route mwan did not create, naming it', () => {
    expect(() => assertTablesFree([1001, 1002], [
      { dst: 'default', gateway: '10.37.1.1', dev: 'eth1', table: '1001', protocol: '109' },
      { dst: '10.9.0.0/16', dev: 'eth5', table: '1002', protocol: 'boot' },
    ])).toThrow(/routing table 1002 holds routes mwan did not create \(10\.9\.0\.0\/16 dev eth5 proto boot\)/);
  });

  it('accepts tables holding only mwan routes, and ignores other tables', () => {
    expect(() => assertTablesFree([1001], [
      { dst: 'default', dev: 'eth1', table: '1001', protocol: '109' },
      { dst: 'default', dev: 'eth0', protocol: 'boot' },
      { dst: 'default', dev: 'eth0', table: '77', protocol: 'static' },
    ])).not.toThrow();
  });
});
