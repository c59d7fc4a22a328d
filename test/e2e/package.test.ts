// The Debian package on this machine: built from the tree, installed with apt-get, its installed
// mwan run as a router would run it (check, apply with real traffic in a lab, a strategy package
// installed with `npm install -g`, watch stopped and started across an upgrade), then removed and
// purged. Installing changes the machine: the package is purged in afterAll whatever happened,
// and the test refuses to start where mwan is already installed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execa } from 'execa';
import { findMwanCli, type Lab, type TrafficServer } from '@mwan/lab';
import { createLab, leftovers, pollUntil, splitBySnat } from './helpers.js';

// dpkg, apt-get, npm and a lab with traffic: each step takes seconds.
jest.setTimeout(180_000);

const PREFIX = 'mwe2epkg';
const repo = fileURLToPath(new URL('../../', import.meta.url));
const cliVersion = (JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8')) as { version: string }).version;
const debVersion = /^mwan \(([^)]+)\)/.exec(readFileSync(join(repo, 'packaging/debian/changelog'), 'utf8'))?.[1] ?? 'no version';
const upgradeVersion = `${debVersion}+e2e1`;
const MWAN = '/usr/bin/mwan';
const CONFIG = '/etc/mwan/mwan.json';
/** What the package puts on the machine, besides the config. */
const INSTALLED = [MWAN, '/usr/lib/mwan', '/lib/systemd/system/mwan.service', '/usr/share/man/man8/mwan.8.gz', '/usr/share/bash-completion/completions/mwan', '/usr/share/doc/mwan'];
/** What enabling the service makes, which purge must take away. */
const ENABLEMENT = ['/etc/systemd/system/multi-user.target.wants/mwan.service', '/etc/systemd/system/mwan.service'];
const STRATEGY = `mwan-strategy-e2epkg${String(process.pid)}`;
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

const installed = async () => (await execa('dpkg-query', ['-W', '-f', '${Status}', 'mwan'], { reject: false })).stdout;
const present = (paths: readonly string[]) => paths.filter((p) => existsSync(p));

/** `mwan watch` of the installed package in the lab router, as the service runs it. */
function startWatch(lab: Lab, config: string) {
  let output = '';
  const child = execa('ip', ['netns', 'exec', lab.ns.router, MWAN, '--run-dir', lab.runDir, 'watch', '--config', config], { reject: false, buffer: true });
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  return { child, output: () => output };
}

describe('the Debian package (npm run package, apt-get install, purge)', () => {
  let out: string;
  let deb: string;
  let upgradeDeb: string;
  let built: Lab | undefined;
  const lab = (): Lab => {
    if (!built) throw new Error('the lab was not built');
    return built;
  };
  let server: TrafficServer;
  let config: string;
  const watches: ReturnType<typeof startWatch>['child'][] = [];
  const cliBefore = process.env.MWAN_CLI;

  beforeAll(async () => {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Error('the package test installs a .deb: run it as root');
    // Never replace an mwan somebody installed.
    expect({ dpkg: await installed(), files: present([...INSTALLED, '/etc/mwan', '/run/mwan']) }).toEqual({ dpkg: '', files: [] });
    out = mkdtempSync(join(tmpdir(), 'mwan-e2e-deb-'));
    const build = async (...args: string[]) => (await execa(process.execPath, [join(repo, 'packaging/build-deb.mjs'), '--out', out, ...args], { cwd: repo })).stdout.trim();
    deb = await build();
    upgradeDeb = await build('--version', upgradeVersion);
    built = await createLab(PREFIX, { links: 2 });
    server = await built.startServer();
    config = await built.configFor({ strategy: 'round-robin', snat: ['address', 'masquerade'] });
  });

  afterAll(async () => {
    for (const watch of watches) watch.kill('SIGKILL');
    await Promise.all(watches);
    process.env.MWAN_CLI = cliBefore;
    if (cliBefore === undefined) delete process.env.MWAN_CLI;
    await execa('npm', ['uninstall', '-g', '--no-audit', '--no-fund', STRATEGY], { reject: false });
    if (await installed()) await execa('apt-get', ['purge', '-y', 'mwan'], { env: APT_ENV, reject: false });
    await built?.destroy();
    if (out) rmSync(out, { recursive: true, force: true });
    // Whatever failed above, the machine is as before.
    expect({ dpkg: await installed(), files: present([...INSTALLED, ...ENABLEMENT, '/etc/mwan', '/run/mwan']) }).toEqual({ dpkg: '', files: [] });
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  it('builds mwan_<version>_<arch>.deb: the runtime without node_modules, the control fields, at most 8 MiB installed, lintian clean', async () => {
    const arch = (await execa('dpkg', ['--print-architecture'])).stdout.trim();
    expect(deb).toBe(join(out, `mwan_${debVersion}_${arch}.deb`));
    expect(debVersion.startsWith(`${cliVersion}-`)).toBe(true);
    const field = async (name: string) => (await execa('dpkg-deb', ['-f', deb, name])).stdout;
    expect(await field('Package')).toBe('mwan');
    // mwan itself is the native front (packages/cli/front/mwan-front.c).
    expect(await field('Architecture')).toBe(arch);
    expect(await field('Depends')).toBe('libc6, nodejs (>= 20), nftables, iproute2, conntrack');
    expect(await field('Recommends')).toBe('iputils-ping, socat');
    const installedKiB = Number(await field('Installed-Size'));
    expect(installedKiB).toBeGreaterThan(500);
    expect(installedKiB).toBeLessThanOrEqual(8 * 1024);

    const listing = (await execa('dpkg-deb', ['-c', deb])).stdout.split('\n').map((l) => l.split(/\s+/).slice(5).join(' ').replace(/^\.\//, '/'));
    expect(listing.filter((p) => p.startsWith('/usr/lib/mwan/') && !p.endsWith('/')).sort()).toEqual([
      '/usr/lib/mwan/bin/mwan.js', '/usr/lib/mwan/dist/mwan-front', '/usr/lib/mwan/dist/mwan.bundle.mjs', '/usr/lib/mwan/dist/mwan.hand-over.mjs', '/usr/lib/mwan/package.json',
    ]);
    expect(listing).toContain('/usr/bin/mwan -> ../lib/mwan/dist/mwan-front');
    expect(listing.filter((p) => p.includes('node_modules'))).toEqual([]);
    for (const path of ['/lib/systemd/system/mwan.service', CONFIG, '/usr/share/man/man8/mwan.8.gz', '/usr/share/bash-completion/completions/mwan',
      '/usr/share/doc/mwan/copyright', '/usr/share/doc/mwan/changelog.Debian.gz']) expect(listing).toContain(path);
    expect((await execa('dpkg-deb', ['-I', deb, 'conffiles'])).stdout.trim()).toBe(CONFIG);

    // Findings are fixed, or overridden with a reason in packaging/debian/lintian-overrides.
    const lintian = await execa('lintian', ['--pedantic', '-I', '--fail-on', 'error,warning,info,pedantic', deb], { reject: false });
    expect({ exitCode: lintian.exitCode, tags: lintian.stdout }).toEqual({ exitCode: 0, tags: '' });
  });

  it('installs with apt-get: mwan --version, mwan check on the shipped config, the unit enabled and verified, mwan(8), completion', async () => {
    await execa('apt-get', ['install', '-y', deb], { env: APT_ENV });
    expect(await installed()).toBe('install ok installed');
    // The installed program: the native front, which runs the CLI by its shebang (Debian's node,
    // whatever PATH says), from any directory.
    expect(readFileSync(MWAN).subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    expect(readFileSync('/usr/lib/mwan/bin/mwan.js', 'utf8').split('\n')[0]).toBe('#!/usr/bin/node');
    expect((await execa(MWAN, ['--version'], { cwd: '/' })).stdout).toBe(cliVersion);
    const check = await lab().exec('router', MWAN, ['check'], { reject: false });
    expect({ exitCode: check.exitCode, stdout: check.stdout, stderr: check.stderr }).toEqual({
      exitCode: 0, stdout: `${CONFIG}: ok (2 links, strategy weighted); nft accepts the ruleset`, stderr: '',
    });
    expect((await execa('systemctl', ['is-enabled', 'mwan.service'], { reject: false })).stdout).toBe('enabled');
    // verify also runs `man mwan(8)` for Documentation= and wants ExecStart's program to exist.
    const verify = await execa('systemd-analyze', ['verify', '/lib/systemd/system/mwan.service'], { reject: false });
    expect({ exitCode: verify.exitCode, stderr: verify.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect((await execa('man', ['-w', 'mwan'])).stdout).toBe('/usr/share/man/man8/mwan.8.gz');
    const page = (await execa('man', ['-P', 'cat', 'mwan'], { env: { MANWIDTH: '100', LC_ALL: 'C' } })).stdout;
    expect(page).toMatch(/^MWAN\(8\)/);
    expect(page).toContain('mwan apply [options]');
    const completion = await execa('bash', ['--norc', '-c', 'source /usr/share/bash-completion/completions/mwan; COMP_WORDS=(mwan wa); COMP_CWORD=1; _mwan; echo "${COMPREPLY[@]}"']);
    expect(completion.stdout).toBe('watch');
  });

  it('changes nothing when mwan watch starts with the shipped example config (a boot before it is edited)', async () => {
    const snapshot = async () => Promise.all([
      lab().exec('router', 'nft', ['list', 'ruleset']).then((r) => r.stdout),
      lab().exec('router', 'ip', ['rule']).then((r) => r.stdout),
      lab().exec('router', 'ip', ['route', 'show', 'table', 'all']).then((r) => r.stdout),
      lab().exec('router', 'sysctl', ['-a', '-r', '^net\\.ipv4\\.(ip_forward|conf\\..*\\.rp_filter)$']).then((r) => r.stdout),
    ]);
    const before = await snapshot();
    const watch = startWatch(lab(), CONFIG);
    watches.push(watch.child);
    await pollUntil(async () => (/does not exist/.test(watch.output()) ? true : undefined), 'mwan watch reporting the missing example interfaces', 10_000);
    watch.child.kill('SIGTERM');
    await watch.child;
    expect(watch.output()).toMatch(/no link can carry traffic: isp1: interface example-wan1 does not exist \(absent\); isp2: interface example-wan2 does not exist \(absent\).*nothing was changed/);
    expect(await snapshot()).toEqual(before);
  });

  it('balances real traffic with the installed mwan apply in the lab, and apply --confirm starts its timer from the installed bin', async () => {
    process.env.MWAN_CLI = MWAN;
    expect(findMwanCli()).toBe(MWAN);
    expect((await lab().mwanOk(['--version'])).stdout).toBe(cliVersion);
    await lab().mwanOk(['apply', '--config', config]);
    server.clear();
    const results = await lab().connect({ proto: 'tcp', count: 40 });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(splitBySnat(lab(), server.records().map((r) => r.src))).toEqual({ isp1: 20, isp2: 20 });

    // The revert timer is `/usr/lib/mwan/bin/mwan.js confirm-timer` in a process of its own.
    const pending = await lab().mwanOk(['apply', '--config', config, '--confirm', '60']);
    expect(pending.stdout).toMatch(/run "mwan confirm" within 60 s/);
    await lab().mwanOk(['confirm']);
    const log = join(lab().runDir, 'confirm.log');
    const said = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    await pollUntil(async () => (/confirmed, or taken over/.test(said()) ? true : undefined), `the revert timer seeing the confirm in confirm.log:\n${said()}`, 10_000);
    expect(said()).not.toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND/);
  });

  it('finds a strategy package installed with npm install -g, and balances with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mwan-e2e-strategy-'));
    try {
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: STRATEGY, version: '1.0.0', type: 'module', main: 'index.js' }));
      writeFileSync(join(dir, 'index.js'), `export default {
  name: 'last-link',
  meta: { description: 'every new connection on the last link' },
  select({ nft, links }) { return nft.constant(links[links.length - 1]); },
};
`);
      const tarball = (await execa('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: dir })).stdout.trim().split('\n').pop() ?? '';
      await execa('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', join(dir, tarball)]);
      const root = (await execa('npm', ['root', '-g'])).stdout.trim();
      const listing = JSON.parse((await execa(MWAN, ['strategies', '--json'])).stdout) as { name: string; ref: string; source: string; error?: string }[];
      expect(listing.find((s) => s.ref === STRATEGY)).toMatchObject({ name: 'last-link', source: expect.stringContaining(join(root, STRATEGY)) as unknown });

      await lab().mwanOk(['apply', '--config', config, '--strategy', STRATEGY]);
      server.clear();
      const results = await lab().connect({ proto: 'tcp', count: 10 });
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(splitBySnat(lab(), server.records().map((r) => r.src))).toEqual({ isp1: 0, isp2: 10 });
    } finally {
      await execa('npm', ['uninstall', '-g', '--no-audit', '--no-fund', STRATEGY], { reject: false });
      rmSync(dir, { recursive: true, force: true });
    }
    expect(existsSync(join((await execa('npm', ['root', '-g'])).stdout.trim(), STRATEGY))).toBe(false);
  });

  it('upgrades in place: the edited config kept, the unit still enabled; stopping watch (as the restart does) keeps the ruleset and the new watch takes over', async () => {
    await lab().mwanOk(['apply', '--config', config]);
    const watchConfig = await lab().writeConfig({ ...JSON.parse(readFileSync(config, 'utf8')) as object, health: { targets: [lab().serverAddress] } }, 'watch.json');
    const ruleset = async () => (await lab().exec('router', 'nft', ['-s', 'list', 'table', 'inet', 'mwan'])).stdout;
    const old = startWatch(lab(), watchConfig);
    watches.push(old.child);
    await pollUntil(async () => (/^watching /m.test(old.output()) ? true : undefined), 'the old mwan watch starting', 15_000);
    const applied = await ruleset();

    // An administrator's edit of the conffile survives the upgrade.
    const edited = `${readFileSync(CONFIG, 'utf8').trimEnd()}\n`.replace('"example-lan"', '"example-lan0"');
    writeFileSync(CONFIG, edited);
    await execa('apt-get', ['install', '-y', upgradeDeb], { env: APT_ENV });
    expect((await execa('dpkg-query', ['-W', '-f', '${Version}', 'mwan'])).stdout).toBe(upgradeVersion);
    expect(readFileSync(CONFIG, 'utf8')).toBe(edited);
    expect((await execa('systemctl', ['is-enabled', 'mwan.service'], { reject: false })).stdout).toBe('enabled');

    // What systemd's restart does: SIGTERM to the old daemon, then the new program.
    old.child.kill('SIGTERM');
    expect((await old.child).exitCode).toBe(0);
    expect(await ruleset()).toBe(applied);
    const fresh = startWatch(lab(), watchConfig);
    watches.push(fresh.child);
    await pollUntil(async () => (/^watching /m.test(fresh.output()) ? true : undefined), 'the new mwan watch starting', 15_000);
    expect(await ruleset()).toBe(applied);
    server.clear();
    const results = await lab().connect({ proto: 'tcp', count: 20 });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(splitBySnat(lab(), server.records().map((r) => r.src))).toEqual({ isp1: 10, isp2: 10 });
    fresh.child.kill('SIGTERM');
    expect((await fresh.child).exitCode).toBe(0);
  });

  it('remove takes down what mwan created and keeps /etc/mwan/mwan.json; purge removes it, /etc/mwan, the run dir and the enablement', async () => {
    const edited = readFileSync(CONFIG, 'utf8');
    const owned = async () => ({
      table: (await lab().exec('router', 'nft', ['list', 'table', 'inet', 'mwan'], { reject: false })).exitCode === 0,
      rules: (await lab().exec('router', 'ip', ['rule'])).stdout.split('\n').filter((l) => / proto 109\b/.test(l)).length,
    });
    const before = await owned();
    expect(before.table).toBe(true);
    expect(before.rules).toBeGreaterThan(0);
    // In the lab router's namespace, so that the prerm's `mwan down` takes down the lab's mwan.
    await execa('ip', ['netns', 'exec', lab().ns.router, 'apt-get', 'remove', '-y', 'mwan'], { env: APT_ENV });
    expect(await owned()).toEqual({ table: false, rules: 0 });
    expect(await installed()).toBe('deinstall ok config-files');
    expect(present(INSTALLED)).toEqual([]);
    expect(readFileSync(CONFIG, 'utf8')).toBe(edited);

    await execa('apt-get', ['purge', '-y', 'mwan'], { env: APT_ENV });
    expect(await installed()).toBe('');
    expect(present([...INSTALLED, ...ENABLEMENT, '/etc/mwan', '/run/mwan'])).toEqual([]);
  });
});
