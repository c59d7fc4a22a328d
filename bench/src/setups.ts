import type { Lab } from '@mwan/lab';
import { applyPlain, removePlain } from './plain.js';
import { removeSeed, runSeed } from './seed.js';

/** One way of configuring the lab's router: a baseline or mwan with a strategy. */
export interface RouterSetup {
  /** Name in tables and plots. */
  label: string;
  up(lab: Lab): Promise<void>;
  down(lab: Lab): Promise<void>;
}

export const plain: RouterSetup = { label: 'plain', up: applyPlain, down: removePlain };

export const seed: RouterSetup = { label: 'seed', up: runSeed, down: removeSeed };

export interface MwanChoice {
  label: string;
  strategy: string | { name: string; options?: Record<string, unknown> };
  /** Per link; default none in the config (all links weigh 1). */
  weights?: readonly number[];
}

/** Writes the config for this lab and choice; every link SNATs to its own address, as the seed does. */
export async function mwanConfig(lab: Lab, choice: MwanChoice): Promise<string> {
  const file = `mwan-${choice.label.replace(/[^a-z0-9]+/gi, '-')}.json`;
  return lab.configFor({ strategy: choice.strategy, snat: 'address', ...(choice.weights ? { weights: choice.weights } : {}) }, file);
}

export function mwan(choice: MwanChoice): RouterSetup {
  return {
    label: choice.label,
    async up(lab) {
      await lab.mwanOk(['apply', '--config', await mwanConfig(lab, choice)]);
    },
    async down(lab) {
      await lab.mwanOk(['down']);
    },
  };
}

/** Brings a setup up with a clean connection table, runs `body`, and always takes it down again. */
export async function withSetup<T>(lab: Lab, setup: RouterSetup, body: () => Promise<T>): Promise<T> {
  await lab.flushConntrack();
  await setup.up(lab);
  try {
    return await body();
  } finally {
    await setup.down(lab);
    await lab.flushConntrack();
  }
}
