import { describe, it, expect } from '@jest/globals';
import { configFor } from './config-for.js';
import { planTopology } from './topology.js';

describe('configFor', () => {
  const { links } = planTopology({ links: 3 });

  it('writes link 1 with its own SNAT address and the others masquerading by default', () => {
    const config = configFor(links, { strategy: 'round-robin' });
    expect(config).toEqual({
      lan: ['eth0'],
      links: [
        { name: 'isp1', interface: 'wan1', gateway: '10.37.1.1', snat: '10.37.1.253' },
        { name: 'isp2', interface: 'wan2', gateway: '10.37.2.1', snat: 'masquerade' },
        { name: 'isp3', interface: 'wan3', gateway: '10.37.3.1', snat: 'masquerade' },
      ],
      strategy: 'round-robin',
    });
  });

  it('passes weights, strategy options, a subset of links and explicit marks', () => {
    const config = configFor(links, {
      strategy: { name: 'weighted', options: { mode: 'inc' } },
      weights: [1, 3],
      only: [3, 1],
      marks: [7],
      snat: 'none',
      lan: ['eth0', 'eth1'],
    });
    expect(config.links).toEqual([
      { name: 'isp3', interface: 'wan3', gateway: '10.37.3.1', weight: 1, snat: 'none', mark: 7 },
      { name: 'isp1', interface: 'wan1', gateway: '10.37.1.1', weight: 3, snat: 'none' },
    ]);
    expect(config.lan).toEqual(['eth0', 'eth1']);
    expect(config.strategy).toEqual({ name: 'weighted', options: { mode: 'inc' } });
  });

  it('refuses a link the lab does not have', () => {
    expect(() => configFor(links, { only: [4] })).toThrow(/no link 4/);
  });
});
