import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { ExecaRunner, ProcSysctlStore, RUNNER, SYSCTLS } from '@mwan/iproute2';

/** The real system: commands through execa, sysctls under /proc/sys. Tests register their own. */
export function createContainer(): DependencyContainer {
  const container = rootContainer.createChildContainer();
  container.register(RUNNER, { useClass: ExecaRunner });
  container.register(SYSCTLS, { useValue: new ProcSysctlStore() });
  return container;
}
