import { ExecaSpawner, type Runner, type Spawner } from '@mwan/iproute2';
import { systemClock, type Clock } from './clock.js';
import { PingSessions } from './ping-sessions.js';
import { combineOutcomes, type ProbedLink, type ProbeOutcome, type Prober } from './probe.js';
import { parseSocat, socatArgs } from './tcp-probe.js';

/**
 * Probes through the real system, every target at once: ICMP through one `ping` per link and
 * target kept running (a fork of the daemon per echo blocked its event loop for milliseconds,
 * 128 times a second with 64 links), TCP with one `socat` per probe via the Runner.
 */
export class SystemProber implements Prober {
  private readonly pings: PingSessions;

  constructor(private readonly runner: Runner, spawner: Spawner = new ExecaSpawner(), clock: Clock = systemClock) {
    this.pings = new PingSessions(spawner, clock);
  }

  async probe(link: ProbedLink): Promise<ProbeOutcome> {
    const { health } = link;
    if (!health.targets.length) return { ok: false, error: 'no targets' };
    return combineOutcomes(await Promise.all(health.targets.map((target) => this.one(link, target))));
  }

  /** Ends every ping; a probe after this starts them again. */
  close(): Promise<void> {
    return this.pings.close();
  }

  private async one(link: ProbedLink, target: string): Promise<ProbeOutcome> {
    const { health } = link;
    try {
      if (health.method === 'tcp') {
        const started = performance.now();
        const result = await this.runner.run('socat', socatArgs(link.interface, link.mark, target, health.port ?? 0, health.timeout), { reject: false });
        return parseSocat(result.exitCode, result.stderr, performance.now() - started);
      }
      return await this.pings.probe({ interface: link.interface, mark: link.mark, target, interval: health.interval, timeout: health.timeout });
    } catch (error) {
      return { ok: false, error: (error as Error).message.split('\n')[0] };
    }
  }
}
