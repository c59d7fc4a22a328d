import { describe, it, expect } from '@jest/globals';
import { labStem, namespaceName, newLabId, parseLabName } from './names.js';

describe('lab names', () => {
  it('round-trips a namespace name to its lab and role', () => {
    const id = newLabId('mwtest', 4242);
    const name = namespaceName(id, 'router');
    expect(name).toMatch(/^mwtest-4242-[0-9a-f]{6}-router$/);
    expect(parseLabName(name, 'mwtest')).toEqual({ ...id, role: 'router' });
    expect(parseLabName(labStem(id), 'mwtest')).toEqual(id);
  });

  it('gives two labs of one process different names', () => {
    expect(labStem(newLabId('mwtest'))).not.toBe(labStem(newLabId('mwtest')));
  });

  it('does not claim names of another prefix or shape', () => {
    expect(parseLabName('mwtestx-1-abcdef-lan', 'mwtest')).toBeUndefined();
    expect(parseLabName('mwtest-1-abcdef-other', 'mwtest')).toBeUndefined();
    expect(parseLabName('mwtest-x-abcdef-lan', 'mwtest')).toBeUndefined();
  });

  it('refuses prefixes that would make names ambiguous', () => {
    expect(() => newLabId('mw-lab')).toThrow(RangeError);
    expect(() => newLabId('')).toThrow(RangeError);
  });
});
