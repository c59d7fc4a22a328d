import type { Lab } from '@mwan/lab';

export interface WrkResult {
  requests: number;
  perSecond: number;
  /** connect + read + write + timeout socket errors, and non-2xx/3xx answers. */
  errors: number;
  seconds: number;
}

export interface WrkOptions {
  url: string;
  seconds: number;
  connections?: number;
  threads?: number;
}

/** wrk's arguments: every request on a new connection (`Connection: close`), so the rate is of new connections. */
export function wrkArgs(o: WrkOptions): string[] {
  return ['-t', String(o.threads ?? 1), '-c', String(o.connections ?? 32), '-d', `${o.seconds}s`, '-H', 'Connection: close', o.url];
}

export function parseWrk(text: string): WrkResult {
  const perSecond = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const total = /(\d+) requests in ([\d.]+)(m?s|m)\b/.exec(text);
  if (!perSecond || !total) throw new Error(`cannot read wrk's output:\n${text}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const errors = (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  const unit = total[3];
  const seconds = Number(total[2]) * (unit === 'ms' ? 0.001 : unit === 'm' ? 60 : 1);
  return { requests: Number(total[1]), perSecond: Number(perSecond[1]), errors, seconds };
}

export async function runWrk(lab: Lab, options: WrkOptions): Promise<WrkResult> {
  const result = await lab.exec('lan', 'wrk', wrkArgs(options), { reject: false });
  if (result.exitCode !== 0) throw new Error(`wrk failed (exit ${result.exitCode}): ${result.stderr || result.stdout}`);
  return parseWrk(result.stdout);
}
