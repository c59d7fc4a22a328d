import type { ProbeOutcome } from './probe.js';
import { seconds } from './ping-probe.js';

/** SOL_SOCKET and SO_MARK on Linux: socat sets socket options by number. */
const SOL_SOCKET = 1;
const SO_MARK = 36;

/**
 * A TCP connect by socat, with the link's mark (routes it through the link's table, as for
 * ping) and bound to its interface. Node cannot set SO_MARK, so the connect is socat's.
 * Nothing is sent: socat half-closes and waits (`-t`, at most the timeout) for the server to close,
 * so no unread data makes the kernel reset the connection. `-d -d -lu` logs the connect with microsecond timestamps, which give the RTT without the
 * cost of starting a process.
 */
export function socatArgs(iface: string, mark: number, target: string, port: number, timeoutSeconds: number): string[] {
  const t = seconds(timeoutSeconds);
  return [
    '-d', '-d', '-lu', `-T${t}`, `-t${t}`, '/dev/null',
    // An IPv6 target goes in brackets (socat splits host and port at the last colon).
    `${target.includes(':') ? `TCP6:[${target}]` : `TCP4:${target}`}:${port},so-bindtodevice=${iface},setsockopt-int=${SOL_SOCKET}:${SO_MARK}:${mark},connect-timeout=${t}`,
  ];
}

/** `2026/11/29 12:14:13.746861 socat[9592] N opening connection to AF=2 ...` → ms since midnight. */
function stamp(line: string): number | undefined {
  const match = /(\d\d):(\d\d):(\d\d)\.(\d{6})/.exec(line);
  if (!match) return undefined;
  const [, h, m, s, us] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + Number(us) / 1000;
}

/**
 * Exit 0 means connected. The RTT is the time from socat's "opening connection" line to the next
 * line it logged (the connect finished); when the log does not show it, the whole run's time
 * (`elapsedMs`), an upper bound.
 */
export function parseSocat(exitCode: number, stderr: string, elapsedMs: number): ProbeOutcome {
  const lines = stderr.split('\n').filter(Boolean);
  if (exitCode === 0) {
    const opening = lines.findIndex((l) => / N opening connection to /.test(l));
    const start = opening >= 0 ? stamp(lines[opening]) : undefined;
    const end = opening >= 0 && opening + 1 < lines.length ? stamp(lines[opening + 1]) : undefined;
    const rtt = start !== undefined && end !== undefined && end >= start ? end - start : elapsedMs;
    return { ok: true, rttMs: Math.round(rtt * 1000) / 1000 };
  }
  const error = lines.find((l) => / E /.test(l));
  if (!error) return { ok: false, error: `socat exited with ${exitCode}` };
  if (/timed out/i.test(error)) return { ok: false, error: 'timeout' };
  if (/refused/i.test(error)) return { ok: false, error: 'connection refused' };
  return { ok: false, error: error.replace(/^.* E /, '').slice(0, 120) };
}
