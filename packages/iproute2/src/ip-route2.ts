import { inject, injectable } from 'tsyringe';
import { runtimeError } from '@mwan/core';
import type { KernelRoute } from './kernel-routes.js';
import type { KernelRule } from './kernel-rules.js';
import { RUNNER, type Runner } from './runner.js';

/** Reads routing state from the kernel as it is, and changes it one `ip` call at a time. */
@injectable()
export class IpRoute2 {
  constructor(@inject(RUNNER) private readonly runner: Runner) {}

  async rules(): Promise<KernelRule[]> {
    return this.json<KernelRule[]>(['-N', '-json', 'rule', 'show']);
  }

  /** Every table, both families: a foreign IPv6 route also makes a table someone else's. */
  async routes(): Promise<KernelRoute[]> {
    return this.json<KernelRoute[]>(['-N', '-json', 'route', 'show', 'table', 'all']);
  }

  async ip(args: readonly string[]): Promise<void> {
    await this.runner.run('ip', args);
  }

  private async json<T>(args: string[]): Promise<T> {
    const { stdout } = await this.runner.run('ip', args);
    try {
      const data = JSON.parse(stdout.trim() || '[]') as unknown;
      if (!Array.isArray(data)) throw new Error('not a JSON array');
      return data as T;
    } catch (error) {
      throw runtimeError(`cannot read the output of ip ${args.join(' ')}: ${(error as Error).message}`, error);
    }
  }
}
