import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ExecaHookRunner, hookEnv } from './hook.js';

describe('ExecaHookRunner', () => {
  it('runs the program with the change in its environment and reports its exit code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mwan-hook-'));
    try {
      const hook = join(dir, 'hook.sh');
      const out = join(dir, 'out');
      await writeFile(hook, `#!/bin/sh\necho "$MWAN_LINK $MWAN_STATE $MWAN_INTERFACE $MWAN_MARK $MWAN_ACTIVE" > ${out}\necho oops >&2\nexit 3\n`);
      await chmod(hook, 0o755);
      const result = await new ExecaHookRunner().run(hook, hookEnv({ link: 'isp2', to: 'down', interface: 'wan2', mark: 2, active: ['isp1'] }));
      expect(result).toEqual({ exitCode: 3, output: 'oops' });
      expect(await readFile(out, 'utf8')).toBe('isp2 down wan2 2 isp1\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a program that cannot start', async () => {
    const result = await new ExecaHookRunner().run('/nonexistent/mwan-hook', {});
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toMatch(/ENOENT|not found/i);
  });
});
