import { describe, expect, it } from '@jest/globals';
import { parseConfig } from './load-config.js';
import { showValue } from './json-path.js';

describe('showValue', () => {
  it('shortens long values to one line', () => {
    expect(showValue('x'.repeat(100))).toBe(`"${'x'.repeat(56)}...`);
  });

  it('survives values nested too deep to stringify', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    expect(showValue(deep)).toBe('[...]');
  });

  it('lets a deeply nested config fail as a config error naming the root', () => {
    expect(() => parseConfig(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)).toThrow(expect.objectContaining({ code: 'config', problems: ['(root): [...] must be an object'] }));
  });
});
