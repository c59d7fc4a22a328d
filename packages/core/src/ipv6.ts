import { isIPv4, isIPv6 } from 'node:net';

/**
 * IPv6 addresses and prefixes as the config writes them (`2001:db8:2::1`, `fd00:157::/64`). Only
 * what mwan decides by: the family of a value, whether an address is link-local, and whether a
 * prefix has host bits set or holds an address.
 */

export const isIpv6Address = (value: string): boolean => isIPv6(value) && !value.includes('%');
export const isIpv4Address = (value: string): boolean => isIPv4(value);

export interface Ipv6Prefix {
  address: string;
  length: number;
  /** The address as a 128-bit number. */
  bits: bigint;
}

/** `2001:db8::/64` → its parts; undefined when it is not an IPv6 prefix. */
export function parseIpv6Prefix(value: string): Ipv6Prefix | undefined {
  const match = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(value);
  if (!match || !isIpv6Address(match[1])) return undefined;
  const length = Number(match[2]);
  if (length > 128) return undefined;
  return { address: match[1], length, bits: ipv6Bits(match[1]) };
}

/** The address as a 128-bit number (an IPv4 tail `::ffff:1.2.3.4` included). */
export function ipv6Bits(address: string): bigint {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array.from({ length: 8 - left.length - right.length }, () => '0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const hostMask = (length: number): bigint => (1n << BigInt(128 - length)) - 1n;

/** Whether the prefix has bits set after its length (`2001:db8::1/64`). */
export const hasHostBits = (prefix: Ipv6Prefix): boolean => (prefix.bits & hostMask(prefix.length)) !== 0n;

/** Whether the address lies in the prefix. */
export const inIpv6Prefix = (address: string, prefix: Ipv6Prefix): boolean =>
  ((ipv6Bits(address) ^ prefix.bits) & ~hostMask(prefix.length) & ((1n << 128n) - 1n)) === 0n;

/** Whether two prefixes share any address. */
export function ipv6PrefixesOverlap(a: Ipv6Prefix, b: Ipv6Prefix): boolean {
  const shorter = a.length <= b.length ? a : b;
  const other = shorter === a ? b : a;
  return ((other.bits ^ shorter.bits) & ~hostMask(shorter.length) & ((1n << 128n) - 1n)) === 0n;
}

/** fe80::/10: never routed, the address family of neighbour discovery and of RA default routes. */
export const LINK_LOCAL_PREFIX = 'fe80::/10';
export const isLinkLocal = (address: string): boolean => isIpv6Address(address) && inIpv6Prefix(address, parseIpv6Prefix(LINK_LOCAL_PREFIX)!);
