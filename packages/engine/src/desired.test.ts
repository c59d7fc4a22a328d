import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { InterfaceFacts } from '@mwan/core';
import { loadDesired } from './desired.js';

const dir = mkdtempSync(join(tmpdir(), 'mwan-desired-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const up = (name: string, n: number): [string, InterfaceFacts] => [name, { name, adminUp: true, carrier: true, addresses: [`10.37.${n}.253`], pointToPoint: false, gateways: [] }];

describe('loadDesired with the interfaces', () => {
  const config = join(dir, 'tiers.json');
  writeFileSync(config, JSON.stringify({
    lan: ['eth0'],
    strategy: 'round-robin',
    links: [
      { name: 'fiber', interface: 'eth1', gateway: '10.37.1.1' },
      { name: 'cable', interface: 'eth2', gateway: '10.37.2.1', priority: 1 },
      { name: 'lte', interface: 'wwan0', gateway: 'auto', priority: 2 },
    ],
  }));
  const interfaces = async () => new Map([up('eth2', 2), up('wwan0', 9)]);

  it('gives new connections to the next tier when every active link was left out, not to every tier', async () => {
    // Health says fiber (the best tier) is up, but its interface is absent.
    const desired = await loadDesired(config, { active: ['fiber'], interfaces });
    expect(desired.down.map((d) => [d.link.name, d.reason])).toEqual([['fiber', 'absent'], ['lte', 'no-gateway']]);
    const selector = desired.rendered.nft.split('\n').find((l) => l.includes('mwan: strategy')) ?? '';
    expect(selector).toContain('goto pick_cable');
    expect(selector).not.toContain('pick_lte');
  });
});
