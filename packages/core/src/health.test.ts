import { describe, expect, it } from '@jest/globals';
import { activeLinks, resolveHealth } from './health.js';

const links = [
  { name: 'a', priority: 0 },
  { name: 'b', priority: 0 },
  { name: 'backup', priority: 1 },
];

describe('activeLinks', () => {
  it('uses the healthy links of the best tier', () => {
    expect(activeLinks(links, {})).toEqual(['a', 'b']);
    expect(activeLinks(links, { a: 'down' })).toEqual(['b']);
  });

  it('falls to the next tier only when the whole better tier is down', () => {
    expect(activeLinks(links, { a: 'down', b: 'down' })).toEqual(['backup']);
    expect(activeLinks(links, { a: 'down', b: 'down', backup: 'up' })).toEqual(['backup']);
  });

  it('keeps what it has (undefined) when every link is down', () => {
    expect(activeLinks(links, { a: 'down', b: 'down', backup: 'down' })).toBeUndefined();
  });
});

describe('resolveHealth', () => {
  it('layers per-link settings over global ones over defaults', () => {
    const health = resolveHealth({ targets: ['172.16.1.100'], down: 5 }, { interval: 1 });
    expect(health).toMatchObject({ enabled: true, targets: ['172.16.1.100'], method: 'icmp', interval: 1, timeout: 0.3, down: 5, up: 3 });
  });

  it('does not check a link without targets or with checks disabled', () => {
    expect(resolveHealth(undefined, undefined).enabled).toBe(false);
    expect(resolveHealth({ targets: ['172.16.1.100'] }, { enabled: false }).enabled).toBe(false);
  });
});
