import { execa } from 'execa';
import type { InjectionToken } from 'tsyringe';

/** A hook may take its time, but a hung one must not pile up behind every later change. */
export const HOOK_TIMEOUT_MS = 30_000;

export interface HookResult {
  exitCode: number;
  /** stdout and stderr, interleaved. */
  output: string;
}

/** Runs the user's program on a state change, with the change in its environment. */
export interface HookRunner {
  run(path: string, env: Readonly<Record<string, string>>): Promise<HookResult>;
}

export const HOOK_RUNNER: InjectionToken<HookRunner> = Symbol.for('mwan.HookRunner');

export class ExecaHookRunner implements HookRunner {
  async run(path: string, env: Readonly<Record<string, string>>): Promise<HookResult> {
    const result = await execa(path, [], { env, reject: false, all: true, timeout: HOOK_TIMEOUT_MS, stdin: 'ignore' });
    return {
      exitCode: typeof result.exitCode === 'number' ? result.exitCode : 127,
      output: String(result.all ?? '') || (result.failed ? String(result.shortMessage ?? '') : ''),
    };
  }
}

/** The environment a hook sees (on top of mwan's own). */
export function hookEnv(change: { link: string; to: 'up' | 'down'; interface: string; mark: number; active: readonly string[] }): Record<string, string> {
  return {
    MWAN_LINK: change.link,
    MWAN_STATE: change.to,
    MWAN_INTERFACE: change.interface,
    MWAN_MARK: String(change.mark),
    MWAN_ACTIVE: change.active.join(','),
  };
}
