import { shorten } from './ping-probe.js';

/**
 * One line of a running `ping -O`, as far as health goes. `seq` is as printed: 16 bits, so it
 * wraps to 0 after 65535 (nine hours of echoes at 0.5 s).
 */
export type PingLine =
  | { kind: 'reply'; seq: number; rttMs: number }
  | { kind: 'lost'; seq: number }
  | { kind: 'failed'; seq: number; error: string }
  /** ping's own complaint on stderr (`ping: sendmsg: Network is unreachable`), shortened. */
  | { kind: 'error'; error: string }
  /** The header, a duplicate, a redirect, a warning: nothing to judge an echo by. */
  | { kind: 'other' };

/** Reads a line of stdout (`stream` 'stdout') or stderr. */
export function parsePingLine(stream: 'stdout' | 'stderr', line: string): PingLine {
  const text = line.trim();
  if (!text) return { kind: 'other' };
  if (stream === 'stderr') {
    // `Warning: time of day goes back (-7199999726us), taking countermeasures`: a wall-clock step
    // under an echo in flight; the echo itself is judged by its own line.
    return /^(ping: )?Warning:/.test(text) ? { kind: 'other' } : { kind: 'error', error: shorten(text) };
  }
  // A duplicate answers an echo already answered.
  if (/\(DUP!\)/.test(text)) return { kind: 'other' };
  const reply = /^\d+ bytes from .*\bicmp_seq=(\d+)\b.*\btime[=<]([\d.]+) ?ms/.exec(text);
  if (reply) return { kind: 'reply', seq: Number(reply[1]), rttMs: Number(reply[2]) };
  const lost = /^no answer yet for icmp_seq=(\d+)/.exec(text);
  if (lost) return { kind: 'lost', seq: Number(lost[1]) };
  // Unreachable and prohibited fail the echo at once; a redirect or time-exceeded leaves it to its timeout.
  const from = /^From \S+ icmp_seq=(\d+) /.exec(text);
  if (from && /unreachable|prohibited|error/i.test(text)) return { kind: 'failed', seq: Number(from[1]), error: shorten(text) };
  return { kind: 'other' };
}
