import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { healthPath, readHealthFile, writeHealthFile, type HealthFile } from './health-file.js';

const file: HealthFile = {
  version: 1, pid: 1, updated: '2026-01-01T00:00:00.000Z', config: '/etc/mwan/mwan.json', active: ['isp1'], allDown: false,
  links: [{ name: 'isp1', interface: 'wan1', mark: 1, priority: 0, checked: true, state: 'up', since: '2026-01-01T00:00:00.000Z', rttMs: 0.3, lossPercent: 0, probes: 9 }],
};

describe('health.json', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mwan-health-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips, leaving no temporary file', async () => {
    await writeHealthFile(dir, file);
    expect(await readHealthFile(dir)).toEqual(file);
    expect(await readdir(dir)).toEqual(['health.json']);
  });

  it('is null when watch never ran', async () => {
    expect(await readHealthFile(dir)).toBeNull();
  });

  it('refuses a file that is not a health file', async () => {
    await writeFile(healthPath(dir), '{"version":2}');
    await expect(readHealthFile(dir)).rejects.toThrow(/not a valid health file/);
    await writeFile(healthPath(dir), '{');
    await expect(readHealthFile(dir)).rejects.toThrow(/not a valid health file/);
  });
});
