import { describe, expect, it } from '@jest/globals';
import { ExecaRunner } from './execa-runner.js';

describe('ExecaRunner', () => {
  const runner = new ExecaRunner();

  it('passes arguments as they are (no shell) and feeds stdin', async () => {
    const result = await runner.run(process.execPath, ['-e', 'process.stdin.pipe(process.stdout); console.error(process.argv[1])', '$HOME; echo hi'], { input: 'in\n' });
    expect(result).toEqual({ exitCode: 0, stdout: 'in\n', stderr: '$HOME; echo hi\n' });
  });

  it('returns the exit code when not rejecting, and throws a runtime error otherwise', async () => {
    const args = ['-e', 'console.error("broken"); process.exit(3)'];
    expect(await runner.run(process.execPath, args, { reject: false })).toMatchObject({ exitCode: 3, stderr: 'broken\n' });
    await expect(runner.run(process.execPath, args)).rejects.toMatchObject({ code: 'runtime', message: expect.stringContaining('failed (exit 3): broken') });
  });

  it('reports a missing program as exit 127 with a message', async () => {
    const result = await runner.run('mwan-no-such-program', [], { reject: false });
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toMatch(/ENOENT/);
  });
});
