import type { DependencyContainer } from 'tsyringe';
import {
  ApplyEngine, ConfirmEngine, DetachedRevertTimer, DownEngine, type ApplyReport, type ApplyRequest, type DownReport, type DownRequest,
  type MwanState, type RevertTimer, type TimerOutcome,
} from '@mwan/engine';
import type { CliIo } from '../context.js';
import type { ControlAnswer, ControlRequest } from './control-socket.js';
import { DAEMON_COMMANDS } from './through-daemon.js';

/** What the daemon lends the commands it runs for clients. */
export interface DaemonHooks {
  /** `mwan apply` (not a dry run): one apply, in turn with the failover's, with the health-aware active set. */
  apply(request: ApplyRequest, engine: ApplyEngine): Promise<ApplyReport>;
  /** The active set the daemon has applied, for a dry run's "what would change". */
  active(): readonly string[] | undefined;
  /** `mwan down`: carried out, then the daemon hands off until the next apply or SIGHUP. */
  down(request: DownRequest, engine: DownEngine): Promise<DownReport>;
  /** The revert timer of an `apply --confirm` has put the router back (to `restored`); called under the revert's lock. */
  reverted(restored: MwanState | null): void;
  /** The revert timer of an `apply --confirm` ran out or was confirmed. */
  confirmEnded(outcome: TimerOutcome): Promise<void>;
  log(line: string): void;
}

/**
 * The container the daemon runs a client's command line in: the same commands, printing the same
 * lines, with the engines that change the router routed through the daemon, and the revert timer
 * of `apply --confirm` running inside the daemon (it reverts, then keeps the config from before).
 */
export function daemonContainer(parent: DependencyContainer, hooks: DaemonHooks): DependencyContainer {
  const container = parent.createChildContainer();
  const confirm = parent.resolve(ConfirmEngine);
  const timer: RevertTimer = {
    start: (runDir, token) => {
      void confirm.runTimer(runDir, token, { onReverted: (restored) => hooks.reverted(restored) }).then(
        (outcome) => hooks.confirmEnded(outcome),
        (error: unknown) => hooks.log(`confirm: the revert timer failed: ${(error as Error).message}`),
      );
      return Promise.resolve(process.pid);
    },
  };
  container.register(DetachedRevertTimer, { useValue: timer as DetachedRevertTimer });
  // The real engine, built in this container so that it takes the timer above.
  const engine = container.resolve(ApplyEngine);
  const downEngine = parent.resolve(DownEngine);
  const apply = {
    apply: (request: ApplyRequest) => (request.dryRun ? engine.apply({ ...request, ...activeOf(hooks) }) : hooks.apply(request, engine)),
  };
  container.register(ApplyEngine, { useValue: apply as unknown as ApplyEngine });
  container.register(DownEngine, { useValue: { down: (request: DownRequest) => hooks.down(request, downEngine) } as unknown as DownEngine });
  return container;
}

const activeOf = (hooks: DaemonHooks) => {
  const active = hooks.active();
  return active ? { active } : {};
};

/** Runs a client's command line in the daemon's container, capturing what it prints. */
export async function answerRequest(request: ControlRequest, container: DependencyContainer, env: NodeJS.ProcessEnv): Promise<ControlAnswer> {
  if (!(DAEMON_COMMANDS as readonly string[]).includes(request.command)) {
    return { exitCode: 2, stdout: '', stderr: `mwan: the daemon carries out ${DAEMON_COMMANDS.join(', ')} only, not "${request.command}"\n` };
  }
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (text) => void (stdout += text), err: (text) => void (stderr += text) };
  // Loaded when first asked: main.ts imports every command, this one among them.
  const { runCommandLine } = await import('../main.js');
  const exitCode = await runCommandLine(request.argv, { container, io, env, throughDaemon: false });
  return { exitCode, stdout, stderr };
}
