import { runtimeError } from '@mwan/core';
import { Conntrack, IpRoute2, NftTable, type Runner, type SysctlStore } from '@mwan/iproute2';
import { ApplyEngine } from './apply-engine.js';
import { ConfirmEngine } from './confirm-engine.js';
import { DownEngine } from './down-engine.js';
import type { RevertTimer } from './revert-timer.js';
import { StatusEngine } from './status-engine.js';

export interface EngineDeps {
  runner: Runner;
  sysctls: SysctlStore;
  /** Needed by `apply --confirm` only. */
  timer?: RevertTimer;
}

export interface Engines {
  apply: ApplyEngine;
  confirm: ConfirmEngine;
  down: DownEngine;
  status: StatusEngine;
}

const noTimer: RevertTimer = {
  start: () => Promise.reject(runtimeError('no revert timer: this engine was built without one, so it cannot apply with --confirm')),
};

/** The engines over one runner and sysctl store, built by hand: no container, no reflect polyfill. */
export function createEngines(deps: EngineDeps): Engines {
  const ip = new IpRoute2(deps.runner);
  const nft = new NftTable(deps.runner);
  const conntrack = new Conntrack(deps.runner);
  return {
    apply: new ApplyEngine(ip, nft, conntrack, deps.sysctls, deps.timer ?? noTimer),
    confirm: new ConfirmEngine(ip, nft, conntrack, deps.sysctls),
    down: new DownEngine(ip, nft, deps.sysctls),
    status: new StatusEngine(ip, nft, conntrack),
  };
}
