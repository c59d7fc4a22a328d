import { describe, expect, it } from '@jest/globals';
import { RecordingRunner } from './recording-runner.js';

describe('RecordingRunner', () => {
  it('writes every call to the transcript, stdin as a here-document', async () => {
    const runner = new RecordingRunner();
    await runner.run('ip', ['rule', 'add', 'pref', '31001', 'fwmark', '0x1', 'lookup', '1001']);
    await runner.run('nft', ['-f', '-'], { input: 'table inet mwan\n' });
    runner.note('[sysctl] net/ipv4/ip_forward = 1');
    expect(runner.transcript).toBe(
      '[call] ip rule add pref 31001 fwmark 0x1 lookup 1001\n'
      + '[call] nft -f - <<EOF\ntable inet mwan\nEOF\n'
      + '[sysctl] net/ipv4/ip_forward = 1\n',
    );
    expect(runner.commandLines).toEqual(['ip rule add pref 31001 fwmark 0x1 lookup 1001', 'nft -f -']);
  });

  it('quotes arguments a shell would split, so the transcript stays unambiguous', async () => {
    const runner = new RecordingRunner();
    await runner.run('echo', ['a b', "it's"]);
    expect(runner.commandLines).toEqual([`echo 'a b' 'it'\\''s'`]);
  });

  it('answers from canned results by command prefix, newest first, a limited number of times', async () => {
    const runner = new RecordingRunner(() => ({ stdout: 'fallback' }));
    runner.on('ip -json rule', { stdout: '[]' });
    runner.on('ip -json rule', { stdout: '[1]' }, 1);
    expect((await runner.run('ip', ['-json', 'rule'])).stdout).toBe('[1]');
    expect((await runner.run('ip', ['-json', 'rule'])).stdout).toBe('[]');
    expect((await runner.run('ip', ['-json', 'ruleset'])).stdout).toBe('fallback');
  });

  it('throws a runtime error on a non-zero exit unless told not to reject', async () => {
    const runner = new RecordingRunner();
    runner.on(/^ip rule del/, { exitCode: 2, stderr: 'RTNETLINK answers: No such file or directory\n' });
    await expect(runner.run('ip', ['rule', 'del', 'pref', '1'])).rejects.toMatchObject({
      code: 'runtime',
      message: 'ip rule del pref 1 failed (exit 2): RTNETLINK answers: No such file or directory',
    });
    expect(await runner.run('ip', ['rule', 'del', 'pref', '1'], { reject: false })).toEqual({
      exitCode: 2, stdout: '', stderr: 'RTNETLINK answers: No such file or directory\n',
    });
  });
});
