import type { LinkState } from '@mwan/core';
import type { HealthChange } from './link-health.js';

/**
 * What `mwan watch` does, as data: each of these is also one log line (except `reconcile` and `check`), and
 * the daemon's metrics count them. Fields are plain JSON, for `--log-format json`.
 */
export type FailoverEvent =
  | {
      event: 'link-state'; link: string; from: LinkState; to: LinkState;
      /** What decided it (`failures`, `probation`, `loss`, `successes`), with its numbers. */
      reason: HealthChange['reason']['kind'];
      count?: number; of?: number; rounds?: number; lastError?: string; rttMs?: number; lossPercent?: number; maxLoss?: number;
    }
  | { event: 'apply'; result: 'ok' | 'failed'; durationMs: number; active: string[]; error?: string }
  | { event: 'active'; active: string[]; was?: string[] }
  | { event: 'all-down'; keeping: string[] }
  | { event: 'flush'; link: string; deleted?: number; error?: string }
  | { event: 'repair'; reason: 'applied-elsewhere' | 'interrupted-apply' | 'drift'; active?: string[]; /** With `drift`: the commands that put it back. */ changes?: string[] }
  | { event: 'drift-check'; error: string }
  | { event: 'hook'; link: string; hook: string; state: LinkState; exitCode?: number; error?: string }
  | { event: 'reconcile' }
  /** One comparison of the kernel with the config (`quick`: the sysctls only), whatever it found. */
  | { event: 'check'; scope: 'full' | 'quick' }
  | { event: 'paused' }
  | { event: 'internal-error'; error: string };
