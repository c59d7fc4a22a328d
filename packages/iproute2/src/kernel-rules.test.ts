import { describe, expect, it } from '@jest/globals';
import { ruleEntryFromKernel, ruleEntryFromSpec } from './kernel-rules.js';

describe('rule entries', () => {
  it('give a rendered rule and the same rule read back from the kernel the same key', () => {
    const pairs = [
      [{ pref: 31000, iif: 'eth0', table: 'main' as const, suppressPrefixlength: 0 }, { priority: 31000, src: 'all', iif: 'eth0', table: '254', suppress_prefixlen: 0, protocol: '109' }],
      [{ pref: 31001, fwmark: 1, table: 1001 }, { priority: 31001, src: 'all', fwmark: '0x1', table: '1001', protocol: '109' }],
      [{ pref: 31001, fwmark: 4096, table: 4000000000 }, { priority: 31001, src: 'all', fwmark: '0x1000', table: '4000000000', protocol: '109' }],
    ] as const;
    for (const [spec, kernel] of pairs) expect(ruleEntryFromKernel(kernel).key).toBe(ruleEntryFromSpec(spec).key);
  });

  it('tell apart rules that differ in mark, mask, table or interface', () => {
    const base = { priority: 31001, src: 'all', fwmark: '0x1', table: '1001', protocol: '109' };
    const keys = new Set([
      base, { ...base, fwmark: '0x2' }, { ...base, fwmask: '0xff' }, { ...base, table: '1002' }, { ...base, iif: 'eth0' }, { ...base, priority: 31002 },
    ].map((r) => ruleEntryFromKernel(r).key));
    expect(keys.size).toBe(6);
  });

  it('delete exactly the rule read, naming every selector and the protocol', () => {
    const entry = ruleEntryFromKernel({ priority: 31001, src: '10.0.0.0', srclen: 8, fwmark: '0x2', fwmask: '0xff', table: '1002', protocol: '109' });
    expect(entry.del).toEqual(['rule', 'del', 'pref', '31001', 'from', '10.0.0.0/8', 'fwmark', '0x2/0xff', 'lookup', '1002', 'proto', '109']);
    expect(entry.add.slice(0, 2)).toEqual(['rule', 'add']);
  });

  it('use ip -6 for IPv6 selectors', () => {
    expect(ruleEntryFromKernel({ priority: 100, src: 'fd00::', srclen: 8, table: '1001', protocol: '109' }).del[0]).toBe('-6');
  });
});
