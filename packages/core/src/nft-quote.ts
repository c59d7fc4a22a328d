import { isIpv6Address, parseIpv6Prefix } from './ipv6.js';

/**
 * Quoting for the few strings that reach the ruleset. Interface and link names are already
 * restricted by the schema; these checks make the renderer safe on its own as well.
 */
const SAFE_STRING = /^[A-Za-z0-9_.@: -]{1,64}$/;

export function quote(value: string): string {
  if (!SAFE_STRING.test(value)) throw new RangeError(`refusing to quote ${JSON.stringify(value)} into the ruleset`);
  return `"${value}"`;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function ipv4(value: string): string {
  if (!IPV4.test(value)) throw new RangeError(`${JSON.stringify(value)} is not an IPv4 address`);
  return value;
}

export function ipv6(value: string): string {
  if (!isIpv6Address(value)) throw new RangeError(`${JSON.stringify(value)} is not an IPv6 address`);
  return value;
}

export function ipv6Prefix(value: string): string {
  if (parseIpv6Prefix(value) === undefined) throw new RangeError(`${JSON.stringify(value)} is not an IPv6 prefix`);
  return value;
}

export function identifier(value: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(value)) throw new RangeError(`${JSON.stringify(value)} is not an nft identifier`);
  return value;
}
