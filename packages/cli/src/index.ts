export { main, type MainOptions } from './main.js';
export { createProgram } from './program.js';
export { createContainer, wire } from './container.js';
export type { CliContext, CliIo, GlobalOptions } from './context.js';
export { reportError } from './format-error.js';
export {
  APPLY_STEPS,
  ApplyEngine,
  BUILTIN_STRATEGIES,
  DEFAULT_RUN_DIR,
  DownEngine,
  StatusEngine,
  acquireLock,
  loadStrategy,
  processAlive,
  resolveRunDir,
  type ApplyReport,
  type ApplyRequest,
  type ApplyStep,
  type DownReport,
  type DownRequest,
  type HeldLock,
  type Journal,
  type LinkState,
  type LinkStatus,
  type LoadedStrategy,
  type LoadOptions,
  type LockOptions,
  type MwanState,
  type Snapshot,
  type StatusReport,
  type SysctlChange,
} from '@mwan/engine';
export { renderManPage, type ManPageOptions } from './man-page.js';
export { renderBashCompletion, type CompletionOptions } from './bash-completion.js';
export type { TraceReport } from './trace/trace-format.js';
