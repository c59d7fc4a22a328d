// The files in packaging/ against the code they drive: the unit passes systemd's own checks and
// its command line is one `mwan watch` accepts; the sysctl drop-in sets what mwan would set.
import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { container as rootContainer } from 'tsyringe';
import { wire } from '@mwan/cli';
import { createProgram, main, renderManPage } from '@mwan/cli';
import { buildModel, renderSysctls, sysctlName } from '@mwan/core';
import { FakeKernel, RecordingRunner, RUNNER, SYSCTLS } from '@mwan/iproute2';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const unit = readFileSync(join(repo, 'packaging/mwan.service'), 'utf8');
const bin = join(repo, 'packages/cli/bin/mwan.js');

const directive = (name: string) => unit.split('\n').filter((l) => l.startsWith(`${name}=`)).map((l) => l.slice(name.length + 1));

describe('packaging/mwan.service', () => {
  it('passes systemd-analyze verify without a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mwan-unit-'));
    try {
      // verify wants the program to exist: point it at this checkout's bin. It also runs
      // `man mwan(8)` for Documentation=: the page the package installs, rendered here.
      writeFileSync(join(dir, 'mwan.service'), unit.replaceAll('/usr/bin/mwan', bin));
      mkdirSync(join(dir, 'man', 'man8'), { recursive: true });
      const program = createProgram({ container: wire(rootContainer.createChildContainer()), io: { out: () => {}, err: () => {} }, env: {} });
      writeFileSync(join(dir, 'man', 'man8', 'mwan.8'), renderManPage(program, { date: '2026-01-01' }));
      const result = await execa('systemd-analyze', ['verify', join(dir, 'mwan.service')], { reject: false, env: { MANPATH: join(dir, 'man') } });
      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs mwan watch with options the CLI accepts, reloads with SIGHUP and does not restart on a bad config', async () => {
    const [start] = directive('ExecStart');
    const [program, ...args] = start.split(/\s+/);
    // Where the Debian package puts it (packaging/build-deb.mjs); a checkout install rewrites it.
    expect(program).toBe('/usr/bin/mwan');
    expect(args.slice(0, 1)).toEqual(['watch']);
    expect(directive('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(directive('RestartPreventExitStatus')).toEqual(['2']);
    // The same command line with a config that does not exist: a config error (2), not a usage error.
    const missing = join(tmpdir(), `mwan-no-such-config-${process.pid}.json`);
    const argv = args.map((a) => (a === '/etc/mwan/mwan.json' ? missing : a === '/run/mwan' ? join(tmpdir(), `mwan-unit-run-${process.pid}`) : a));
    expect(argv).toContain(missing);
    const kernel = new FakeKernel();
    const container = wire(rootContainer.createChildContainer());
    container.register(RUNNER, { useValue: new RecordingRunner(kernel.respond) });
    container.register(SYSCTLS, { useValue: kernel });
    let err = '';
    const code = await main(argv, { container, env: {}, io: { out: () => {}, err: (t) => { err += t; } } });
    rmSync(join(tmpdir(), `mwan-unit-run-${process.pid}`), { recursive: true, force: true });
    expect(code).toBe(2);
    expect(err).toContain(missing);
    expect(err).not.toMatch(/unknown option|too many arguments/);
    expect(kernel.table).toBeNull();
  });
});

describe('packaging/sysctl.d/90-mwan.conf', () => {
  it('sets exactly what mwan sets for links on the interfaces it names', () => {
    const text = readFileSync(join(repo, 'packaging/sysctl.d/90-mwan.conf'), 'utf8');
    const settings = text.split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.split(/\s*=\s*/));
    const interfaces = settings.map(([key]) => /^net\.ipv4\.conf\.(.+)\.rp_filter$/.exec(key)?.[1]).filter((i): i is string => i !== undefined);
    expect(interfaces.length).toBeGreaterThan(0);
    const model = buildModel({ lan: ['eth0'], links: interfaces.map((iface, i) => ({ name: `l${i}`, interface: iface })) });
    const expected = renderSysctls(model).map((s) => [sysctlName(s.path), s.value]);
    expect(settings).toEqual(expected);
  });
});
