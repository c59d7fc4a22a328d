import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { ApplyEngine, ConfirmEngine, DetachedRevertTimer, DownEngine, StatusEngine } from '@mwan/engine';
import { CLOCK, systemClock, SystemProber, type Clock } from '@mwan/health';
import {
  Conntrack, ExecaRunner, ExecaSpawner, IpRoute2, NftTable, ProcSysctlStore, RUNNER, SPAWNER, SYSCTLS, type Runner, type Spawner, type SysctlStore,
} from '@mwan/iproute2';
import { MetricsSource } from './metrics/metrics-source.js';

/**
 * The committed `mwan` entry of this package, seen from src/, dist/ or the one-file bundle in
 * dist/ alike: the revert timer of `apply --confirm` runs it.
 */
const MWAN_BIN = fileURLToPath(new URL('../bin/mwan.js', import.meta.url));

/**
 * How the libraries' classes are built. They carry no decorators (they import without a reflect
 * polyfill), so each gets a factory here; every factory reads RUNNER and SYSCTLS from the
 * container it is resolved from, so a test registers its fakes after this and they win.
 */
export function wire(container: DependencyContainer): DependencyContainer {
  const runner = (c: DependencyContainer) => c.resolve<Runner>(RUNNER);
  const sysctls = (c: DependencyContainer) => c.resolve<SysctlStore>(SYSCTLS);
  container.register(IpRoute2, { useFactory: (c) => new IpRoute2(runner(c)) });
  container.register(NftTable, { useFactory: (c) => new NftTable(runner(c)) });
  container.register(Conntrack, { useFactory: (c) => new Conntrack(runner(c)) });
  // The pings run under the SPAWNER and the CLOCK a test registers, as the rest of watch does.
  const spawner = (c: DependencyContainer) => (c.isRegistered(SPAWNER, true) ? c.resolve<Spawner>(SPAWNER) : new ExecaSpawner());
  container.register(SystemProber, { useFactory: (c) => new SystemProber(runner(c), spawner(c), c.isRegistered(CLOCK, true) ? c.resolve<Clock>(CLOCK) : systemClock) });
  container.register(MetricsSource, { useFactory: (c) => new MetricsSource(runner(c)) });
  container.register(DetachedRevertTimer, { useFactory: () => new DetachedRevertTimer(MWAN_BIN) });
  container.register(ApplyEngine, {
    useFactory: (c) => new ApplyEngine(c.resolve(IpRoute2), c.resolve(NftTable), c.resolve(Conntrack), sysctls(c), c.resolve(DetachedRevertTimer)),
  });
  container.register(ConfirmEngine, { useFactory: (c) => new ConfirmEngine(c.resolve(IpRoute2), c.resolve(NftTable), c.resolve(Conntrack), sysctls(c)) });
  container.register(DownEngine, { useFactory: (c) => new DownEngine(c.resolve(IpRoute2), c.resolve(NftTable), sysctls(c)) });
  container.register(StatusEngine, { useFactory: (c) => new StatusEngine(c.resolve(IpRoute2), c.resolve(NftTable), c.resolve(Conntrack)) });
  return container;
}

/** The real system: commands through execa, sysctls under /proc/sys. Tests use `wire` with their own. */
export function createContainer(): DependencyContainer {
  const container = wire(rootContainer.createChildContainer());
  container.register(RUNNER, { useValue: new ExecaRunner() });
  container.register(SPAWNER, { useValue: new ExecaSpawner() });
  container.register(SYSCTLS, { useValue: new ProcSysctlStore() });
  return container;
}
