import { describe, expect, it } from '@jest/globals';
import { Conntrack } from './conntrack.js';
import { RecordingRunner } from './recording-runner.js';

describe('Conntrack', () => {
  it('counts deleted entries, and treats "none matched" (exit 1) as zero', async () => {
    const runner = new RecordingRunner();
    const conntrack = new Conntrack(runner);
    runner.on('conntrack -D -m 2', { exitCode: 0, stderr: 'conntrack v1.4.7 (conntrack-tools): 5 flow entries have been deleted.\n' }, 1);
    expect(await conntrack.deleteMark(2)).toBe(5);
    runner.on('conntrack -D -m 2', { exitCode: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n' }, 1);
    expect(await conntrack.deleteMark(2)).toBe(0);
  });

  it('goes on when an entry ended by itself between listing and delete, which stops conntrack', async () => {
    const runner = new RecordingRunner();
    runner.on('conntrack -D -m 3', { exitCode: 0, stderr: 'conntrack v1.4.7 (conntrack-tools): 4 flow entries have been deleted.\n' }, 1);
    runner.on('conntrack -D -m 3', { exitCode: 1, stderr: "conntrack v1.4.7 (conntrack-tools): Operation failed: such conntrack doesn't exist\n" }, 2);
    expect(await new Conntrack(runner).deleteMark(3)).toBe(4);
    expect(runner.commandLines).toEqual(['conntrack -D -m 3', 'conntrack -D -m 3', 'conntrack -D -m 3']);
  });

  it('gives up on an entry that keeps vanishing after ten tries', async () => {
    const runner = new RecordingRunner();
    runner.on('conntrack -D -m 3', { exitCode: 1, stderr: "conntrack v1.4.7 (conntrack-tools): Operation failed: such conntrack doesn't exist\n" });
    await expect(new Conntrack(runner).deleteMark(3)).rejects.toThrow(/such conntrack doesn't exist/);
    expect(runner.commandLines).toHaveLength(10);
  });

  it('fails on a real error', async () => {
    const runner = new RecordingRunner();
    runner.on('conntrack -D', { exitCode: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted\n' });
    await expect(new Conntrack(runner).deleteMark(2)).rejects.toThrow(/Operation not permitted/);
  });

  it('counts entries by mark, or says it cannot tell', async () => {
    const runner = new RecordingRunner();
    runner.on('conntrack -L -m 1', { stdout: 'tcp 6 ...\nudp 17 ...\n', stderr: 'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n' });
    runner.on('conntrack -L -m 9', { exitCode: 127, stderr: 'not found' });
    const conntrack = new Conntrack(runner);
    expect(await conntrack.countMark(1)).toBe(2);
    expect(await conntrack.countMark(9)).toBeUndefined();
  });
});
