import type { ProbeOutcome } from './probe.js';

/**
 * `ping` bound to the link's interface and carrying its mark: the mark makes the router's own
 * `fwmark M lookup T` rule send the probe through the link's table (whatever the main table's
 * default route is), and binding to the device keeps it off every other link.
 */
export function pingArgs(iface: string, mark: number, target: string, timeoutSeconds: number): string[] {
  return ['-n', '-c', '1', '-W', seconds(timeoutSeconds), '-I', iface, '-m', String(mark), target];
}

/** ping accepts fractional seconds; a fixed format keeps `1e-2` and the like out of its way. */
export function seconds(value: number): string {
  return String(Number(value.toFixed(3)));
}

/**
 * Exit 0 with `time=0.291 ms` is an answer; exit 1 is no answer within the timeout; anything
 * else is ping's own error (`sendmsg: Network is unreachable`, a link without carrier, ...).
 */
export function parsePing(exitCode: number, stdout: string, stderr: string): ProbeOutcome {
  if (exitCode === 0) {
    const match = /time[=<]([\d.]+) ?ms/.exec(stdout);
    return match ? { ok: true, rttMs: Number(match[1]) } : { ok: false, error: 'no round-trip time in ping output' };
  }
  const message = firstLine(stderr) ?? firstLine(stdout.split('\n').filter((l) => /unreachable|prohibited|error/i.test(l)).join('\n'));
  if (exitCode === 1) return { ok: false, error: message ? shorten(message) : 'timeout' };
  return { ok: false, error: message ? shorten(message) : `ping exited with ${exitCode}` };
}

function firstLine(text: string): string | undefined {
  return text.split('\n').map((l) => l.trim()).find(Boolean);
}

/** `ping: sendmsg: No buffer space available` → `sendmsg: No buffer space available`. */
function shorten(message: string): string {
  return message.replace(/^ping: /, '').replace(/^From \S+ icmp_seq=\d+ /, '').slice(0, 120);
}
