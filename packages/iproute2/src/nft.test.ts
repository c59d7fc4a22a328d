import { describe, expect, it } from '@jest/globals';
import { NftTable } from './nft.js';
import { RecordingRunner } from './recording-runner.js';

describe('NftTable', () => {
  it('reads an absent table as null and other failures as errors', async () => {
    const runner = new RecordingRunner();
    runner.on('nft list table inet mwan', { exitCode: 1, stderr: 'Error: No such file or directory\nlist table inet mwan\n' }, 1);
    const nft = new NftTable(runner);
    expect(await nft.current()).toBeNull();
    runner.on('nft list table inet mwan', { exitCode: 1, stderr: 'Error: Operation not permitted\n' }, 1);
    await expect(nft.current()).rejects.toThrow(/Operation not permitted/);
  });

  it('reports what nft -c printed when it rejects a ruleset', async () => {
    const runner = new RecordingRunner();
    runner.on('nft -c -f -', { exitCode: 1, stderr: '/dev/stdin:3:1-5: Error: syntax error\n' });
    await expect(new NftTable(runner).check('table inet mwan {\n')).rejects.toThrow('nft rejected the ruleset:\n/dev/stdin:3:1-5: Error: syntax error');
    expect(runner.calls[0].input).toBe('table inet mwan {\n');
  });

  it('reads named counters from nft -j', async () => {
    const runner = new RecordingRunner();
    runner.on('nft -j list counters table inet mwan', {
      stdout: JSON.stringify({ nftables: [{ metainfo: {} }, { counter: { name: 'isp1', packets: 12, bytes: 900 } }, { counter: { name: 'isp2', packets: 3, bytes: 180 } }] }),
    });
    expect(await new NftTable(runner).counters()).toEqual({ isp1: { packets: 12, bytes: 900 }, isp2: { packets: 3, bytes: 180 } });
  });

  it('restores a previous table, or its absence, in one script that names only table inet mwan', () => {
    expect(NftTable.restoreScript(null)).toBe('table inet mwan\ndelete table inet mwan\n');
    expect(NftTable.restoreScript('table inet mwan {\n}')).toBe('table inet mwan\ndelete table inet mwan\ntable inet mwan {\n}\n');
  });
});
