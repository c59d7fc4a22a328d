import type { Runner } from '@mwan/iproute2';
import { parsePing, pingArgs } from './ping-probe.js';
import { combineOutcomes, type ProbedLink, type ProbeOutcome, type Prober } from './probe.js';
import { parseSocat, socatArgs } from './tcp-probe.js';

/** Probes through the real system: ping or socat via the Runner, every target at once. */
export class SystemProber implements Prober {
  constructor(private readonly runner: Runner) {}

  async probe(link: ProbedLink): Promise<ProbeOutcome> {
    const { health } = link;
    if (!health.targets.length) return { ok: false, error: 'no targets' };
    return combineOutcomes(await Promise.all(health.targets.map((target) => this.one(link, target))));
  }

  private async one(link: ProbedLink, target: string): Promise<ProbeOutcome> {
    const { health } = link;
    try {
      if (health.method === 'tcp') {
        const started = performance.now();
        const result = await this.runner.run('socat', socatArgs(link.interface, link.mark, target, health.port ?? 0, health.timeout), { reject: false });
        return parseSocat(result.exitCode, result.stderr, performance.now() - started);
      }
      const result = await this.runner.run('ping', pingArgs(link.interface, link.mark, target, health.timeout), { reject: false });
      return parsePing(result.exitCode, result.stdout, result.stderr);
    } catch (error) {
      return { ok: false, error: (error as Error).message.split('\n')[0] };
    }
  }
}
