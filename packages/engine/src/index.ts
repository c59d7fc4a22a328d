export { createEngines, type EngineDeps, type Engines } from './engines.js';
export { APPLY_STEPS, ApplyEngine, type ApplyReport, type ApplyRequest, type ApplyStep, type LeftOut } from './apply-engine.js';
export { ConfirmEngine, type ConfirmReport, type RevertReport, type TimerOptions, type TimerOutcome } from './confirm-engine.js';
export { DownEngine, type DownReport, type DownRequest } from './down-engine.js';
export { StatusEngine, type LinkStatus, type StatusReport } from './status-engine.js';
export { DetachedRevertTimer, type RevertTimer } from './revert-timer.js';
export { decide, sysctlPathsOf, type DecideOptions, type Decision, type DesiredState, type History, type Observed } from './decide.js';
export { loadDesired, marksOf, type Desired, type DesiredOptions } from './desired.js';
export { KernelCache, type KernelView } from './kernel-cache.js';
export { acquireLock, lockHolder, processAlive, type HeldLock, type LockOptions } from './lock.js';
export { DEFAULT_RUN_DIR, ensureDir, resolveRunDir, socketPath } from './run-dir.js';
export { readPendingConfirm, writePendingConfirm, type HeldConfigRecord, type PendingConfirm } from './pending-confirm.js';
export { readState, type Journal, type LinkState, type MwanState, type Snapshot, type SysctlChange } from './state-file.js';
export {
  BUILTIN_STRATEGIES,
  listStrategies,
  loadStrategy,
  type LoadedStrategy,
  type LoadOptions,
  type StrategyListing,
} from './strategy-loader.js';
