import { describe, expect, it } from '@jest/globals';
import { parseListenAddress } from './listen-address.js';

describe('--metrics ADDR:PORT', () => {
  it('takes IPv4, [IPv6] and an empty address', () => {
    expect(parseListenAddress('127.0.0.1:9567')).toEqual({ host: '127.0.0.1', port: 9567 });
    expect(parseListenAddress('[::1]:9567')).toEqual({ host: '::1', port: 9567 });
    expect(parseListenAddress(':9567')).toEqual({ host: '0.0.0.0', port: 9567 });
  });

  it.each(['9567', 'localhost:9567', '127.0.0.1:0', '127.0.0.1:65536', '::1:9567', '300.1.1.1:80', '127.0.0.1:'])('refuses %s', (value) => {
    expect(() => parseListenAddress(value)).toThrow(/is not ADDR:PORT/);
  });
});
