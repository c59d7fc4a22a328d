import { describe, expect, it } from '@jest/globals';
import { routeEntryFromKernel, routeEntryFromSpec } from './kernel-routes.js';

describe('route entries', () => {
  it('give a rendered route and the same route read back the same key', () => {
    expect(routeEntryFromKernel({ dst: 'default', gateway: '10.37.1.1', dev: 'eth1', table: '1001', protocol: '109', flags: [] }).key)
      .toBe(routeEntryFromSpec({ table: 1001, dev: 'eth1', gateway: '10.37.1.1' }).key);
    expect(routeEntryFromKernel({ dst: 'default', dev: 'ppp0', table: '1002', protocol: '109', scope: 'link' }).key)
      .toBe(routeEntryFromSpec({ table: 1002, dev: 'ppp0' }).key);
  });

  it('share a slot, but not a key, when only the gateway or device changed', () => {
    const a = routeEntryFromSpec({ table: 1001, dev: 'eth1', gateway: '10.37.1.1' });
    const b = routeEntryFromSpec({ table: 1001, dev: 'eth1', gateway: '10.37.1.9' });
    expect(a.slot).toBe(b.slot);
    expect(a.key).not.toBe(b.key);
  });

  it('re-create a route read with ip -N (numeric type and table)', () => {
    const entry = routeEntryFromKernel({ type: '7', dst: 'default', table: '1001', protocol: '109', metric: 5 });
    expect(entry.replace).toEqual(['route', 'replace', 'unreachable', 'default', 'table', '1001', 'proto', '109', 'metric', '5']);
    expect(routeEntryFromKernel({ dst: 'fd00::/8', dev: 'eth1', table: '1001', protocol: '109' }).del.slice(0, 3)).toEqual(['-6', 'route', 'del']);
  });
});
