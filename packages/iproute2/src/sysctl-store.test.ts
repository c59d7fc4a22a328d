import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcSysctlStore } from './sysctl-store.js';

describe('ProcSysctlStore', () => {
  const root = mkdtempSync(join(tmpdir(), 'mwan-sysctl-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'net/ipv4/conf/eth0.10'), { recursive: true });
  writeFileSync(join(root, 'net/ipv4/conf/eth0.10/rp_filter'), '1\n');
  const store = new ProcSysctlStore(root);

  it('reads and writes by path, keeping the dots of interface names', async () => {
    expect(await store.read('net/ipv4/conf/eth0.10/rp_filter')).toBe('1');
    await store.write('net/ipv4/conf/eth0.10/rp_filter', '2');
    expect(readFileSync(join(root, 'net/ipv4/conf/eth0.10/rp_filter'), 'utf8')).toBe('2\n');
  });

  it('reads a parameter that does not exist as undefined', async () => {
    expect(await store.read('net/ipv4/conf/eth9/rp_filter')).toBeUndefined();
  });

  it('refuses paths that climb out of /proc/sys', async () => {
    await expect(store.read('net/../../etc/passwd')).rejects.toThrow(/invalid sysctl path/);
  });
});
