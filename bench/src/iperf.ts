import { execa, type ResultPromise } from 'execa';
import type { Lab } from '@mwan/lab';
import { waitListening } from './listening.js';

export const IPERF_PORT = 5201;

/** iperf3 server in the lab's server namespace, serving one test after another. */
export class IperfServer {
  private constructor(private readonly child: ResultPromise, readonly address: string) {}

  static async start(lab: Lab, address: string): Promise<IperfServer> {
    const child = execa('ip', ['netns', 'exec', lab.ns.srv, 'iperf3', '-s', '-B', address, '-p', String(IPERF_PORT)], { reject: false, stdin: 'ignore' });
    const server = new IperfServer(child, address);
    try {
      await waitListening(lab, address, IPERF_PORT);
    } catch (error) {
      server.stop();
      throw error;
    }
    return server;
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

export interface IperfOptions {
  to: string;
  seconds: number;
  streams?: number;
  /** Seconds at the start left out of the result (TCP ramp-up). */
  omit?: number;
}

export function iperfArgs(o: IperfOptions): string[] {
  return ['-c', o.to, '-p', String(IPERF_PORT), '-P', String(o.streams ?? 4), '-t', String(o.seconds), '-O', String(o.omit ?? 0), '-J'];
}

/** Received bits per second over all streams, from iperf3's JSON. */
export function parseIperf(json: string): number {
  const data = JSON.parse(json) as { error?: string; end?: { sum_received?: { bits_per_second?: number } } };
  if (data.error) throw new Error(`iperf3: ${data.error}`);
  const bps = data.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number') throw new Error('iperf3: no sum_received in its report');
  return bps;
}

export async function runIperf(lab: Lab, options: IperfOptions): Promise<number> {
  const result = await lab.exec('lan', 'iperf3', iperfArgs(options), { reject: false });
  if (result.exitCode !== 0 && !result.stdout.trim().startsWith('{')) throw new Error(`iperf3 failed (exit ${result.exitCode}): ${result.stderr}`);
  return parseIperf(result.stdout);
}
