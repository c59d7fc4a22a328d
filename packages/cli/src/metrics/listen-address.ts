import { InvalidArgumentError } from 'commander';
import { isIPv4, isIPv6 } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `ADDR:PORT` for `--metrics`: an IPv4 address, `[IPv6]`, or nothing (every address) before the port. */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const host = match ? match[1] ?? match[2] : '';
  const port = match ? Number(match[3]) : NaN;
  const hostOk = match !== null && (match[1] !== undefined ? isIPv6(host) : host === '' || isIPv4(host));
  if (!hostOk || !(port >= 1 && port <= 65535)) {
    throw new InvalidArgumentError(`"${value}" is not ADDR:PORT (an IPv4 address or [IPv6 address], a port 1-65535; e.g. 127.0.0.1:9567)`);
  }
  return { host: host === '' ? '0.0.0.0' : host, port };
}
