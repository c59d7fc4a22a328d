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

  it('reads the elements of the table\'s sets with the seconds they have left', async () => {
    const runner = new RecordingRunner();
    runner.on('nft -j list sets table inet mwan', {
      stdout: JSON.stringify({ nftables: [{ metainfo: {} }, { set: { name: 'sticky.bank.isp1', timeout: 600, elem: [{ elem: { val: '192.168.157.3', expires: 431 } }, '192.168.157.9'] } }, { set: { name: 'sticky.bank.isp2' } }] }),
    });
    expect(await new NftTable(runner).setElements()).toEqual({
      'sticky.bank.isp1': [{ value: '192.168.157.3', expiresSeconds: 431 }, { value: '192.168.157.9' }],
      'sticky.bank.isp2': [],
    });
    runner.on('nft -j list sets table inet mwan', { exitCode: 1, stderr: 'Error: No such file or directory\n' });
    expect(await new NftTable(runner).setElements()).toEqual({});
  });

  it('adds elements back with the time they had left, never more than the set\'s timeout, leaving out those about to go', () => {
    expect(NftTable.addElementsScript([
      { name: 'sticky.bank.isp1', seconds: 60, elements: [{ value: '10.0.0.1', expiresSeconds: 431 }, { value: '10.0.0.2', expiresSeconds: 12 }, { value: '10.0.0.3', expiresSeconds: 0 }] },
      { name: 'sticky.bank.isp2', seconds: 60, elements: [] },
    ])).toBe('add element inet mwan sticky.bank.isp1 { 10.0.0.1 timeout 60s expires 60s, 10.0.0.2 timeout 60s expires 12s }\n');
    expect(NftTable.addElementsScript([])).toBe('');
    const many = Array.from({ length: 300 }, (_, i) => ({ value: `10.0.${i >> 8}.${i & 255}`, expiresSeconds: 5 }));
    expect(NftTable.addElementsScript([{ name: 's', seconds: 9, elements: many }]).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('restores a previous table, or its absence, in one script that names only table inet mwan', () => {
    expect(NftTable.restoreScript(null)).toBe('table inet mwan\ndelete table inet mwan\n');
    expect(NftTable.restoreScript('table inet mwan {\n}')).toBe('table inet mwan\ndelete table inet mwan\ntable inet mwan {\n}\n');
  });
});
