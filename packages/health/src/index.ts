export { combineOutcomes, PROBER, type ProbedLink, type ProbeOutcome, type Prober } from './probe.js';
export { pingArgs } from './ping-probe.js';
export { parsePingLine, type PingLine } from './ping-line.js';
export { IDLE_INTERVALS, PingSession, RESTART_AFTER_FAILURES, SEND_SLACK_MS, type PingSessionKey } from './ping-session.js';
export { PingSessions } from './ping-sessions.js';
export { parseSocat, socatArgs } from './tcp-probe.js';
export { SystemProber } from './system-prober.js';
export {
  initialHealth, lossPercent, MAX_FLAP_DOUBLINGS, observe, successesNeeded, type HealthChange, type LinkHealth,
} from './link-health.js';
export { CLOCK, systemClock, type Clock } from './clock.js';
export { FakeClock } from './fake-clock.js';
export { HealthMonitor, PROBE_GRACE_MS, type LinkChange, type MonitorDeps } from './monitor.js';
export { ExecaHookRunner, HOOK_RUNNER, HOOK_TIMEOUT_MS, hookEnv, type HookResult, type HookRunner } from './hook.js';
export { changeMessage } from './change-message.js';
export { healthPath, readHealthFile, writeHealthFile, type HealthFile, type LinkHealthRecord } from './health-file.js';
export type { FailoverEvent } from './events.js';
export { Failover, HEALTH_WRITE_MS, RETRY_MS, type FailoverDeps, type FailoverLink, type FailoverOptions } from './failover.js';
export { failoverLinks } from './failover-links.js';
