// While `mwan watch` runs it is the one writer of the router: `mwan apply`, `down`, `confirm`
// and `status` hand their command line to it over the run dir's socket and print its answer.
// Real connections from the LAN show that a manual apply never brings a dead link back, that an
// unconfirmed change is reverted and the daemon keeps the config from before, and that the
// socket is root's alone.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { execa } from 'execa';
import { configFor, type Lab, type TrafficServer } from '@mwan/lab';
import { createLab, freshRouter, leftovers, pollUntil, splitOfNew } from './helpers.js';
import { WatchProcess } from './watch-process.js';

jest.setTimeout(120_000);

const PREFIX = 'mwe2esock';
const DROP_TABLE = 'mwansock_drop';
const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('mwan watch is the one writer: commands through its socket', () => {
  let lab: Lab;
  let server: TrafficServer;
  let watch: WatchProcess | undefined;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 2 });
    server = await lab.startServer();
    await lab.exec('srv', 'nft', ['-f', '-'], {
      input: `table inet ${DROP_TABLE} {\n\tchain in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t}\n}\n`,
    });
  });

  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
    await lab.exec('srv', 'nft', ['flush', 'chain', 'inet', DROP_TABLE, 'in']);
  });

  afterAll(async () => {
    await watch?.stop();
    server?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  beforeEach(() => freshRouter(lab, server));

  async function startWatch(config: string): Promise<WatchProcess> {
    watch = new WatchProcess(lab, config);
    await watch.waitFor(/^watching/);
    return watch;
  }

  const table = async () => (await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'])).stdout;
  const strategyIn = async () => /comment "mwan: strategy ([a-z-]+)"/.exec(await table())?.[1];
  const strategyBack = (strategy: string, what: string) => pollUntil(async () => ((await strategyIn()) === strategy ? true : undefined), what, 5000);

  /** Another program empties the ruleset: the daemon repairs towards the config it holds, `strategy`'s. */
  async function flushRepairedTo(w: WatchProcess, strategy: string): Promise<void> {
    const flushed = Date.now();
    await lab.exec('router', 'nft', ['flush', 'ruleset']);
    await w.waitFor(/^repair: the kernel differs from the config/, 5000, flushed);
    await strategyBack(strategy, `repaired to ${strategy}`);
  }

  it('applies a manual `mwan apply` itself, with the healthy links only: the dead link stays out', async () => {
    const config = await lab.writeConfig({ ...configFor(lab.links, { strategy: 'round-robin' }), health: { targets: [lab.serverAddress] } }, 'sock-health.json');
    const w = await startWatch(config);
    await lab.exec('srv', 'nft', ['add', 'rule', 'inet', DROP_TABLE, 'in', 'iifname', lab.links[1].serverInterface, 'drop']);
    await w.waitFor(/^active links: isp1 \(was isp1, isp2\)$/, 10_000);

    const after = Date.now();
    const manual = await lab.mwanOk(['apply', '--config', config]);
    // The same lines as an apply of its own, from the daemon.
    expect(manual.stdout).toMatch(/^applied 2 links with strategy round-robin: isp1 \(mark 0x1, table 1001\), isp2 \(mark 0x2, table 1002\)\n {2}(nothing to change|\d+ changes?); /);
    await w.waitFor(/^apply: .* applied for mwan apply \(active links isp1; strategy [a-z0-9-]+\): (table swapped in \d+ ms|table unchanged), done in \d+ ms$/, 2000, after);
    // The balancing rule picks isp1 alone, and every new connection leaves by it.
    expect(await table()).not.toMatch(/goto pick_isp2 comment "mwan: strategy/);
    expect(await splitOfNew(lab, server, 20)).toEqual({ isp1: 20, isp2: 0 });
    expect(w.text).not.toContain('applied by another mwan command');

    // status through the daemon: its answer, with the link's state.
    const status = await lab.mwanOk(['status']);
    expect(status.stdout).toMatch(/^table inet mwan: applied .*strategy round-robin/);
    expect(status.stdout).toMatch(/^health: mwan watch \(pid \d+\) running, .*; new connections use isp1$/m);
    expect(status.stdout).toMatch(/^isp2 +0 +down /m);
  });

  it('reverts an unconfirmed `apply --confirm` and keeps the config from before, whatever the file says; a confirmed one stays', async () => {
    const write = (strategy: string) => lab.writeConfig(configFor(lab.links, { strategy }), 'sock-confirm.json');
    const config = await write('round-robin');
    const w = await startWatch(config);

    // The file is edited in place, then applied on trial.
    await write('source-hash');
    const trial = await lab.mwanOk(['apply', '--config', config, '--confirm', '3']);
    expect(trial.stdout).toMatch(/run "mwan confirm" within 3 s/);
    expect(await strategyIn()).toBe('source-hash');
    await w.waitFor(/^confirm: not confirmed in time, reverted; the daemon keeps .* as it was before the change$/, 10_000);
    await strategyBack('round-robin', 'round-robin back');

    // Drift repair goes back to the reverted config, not to the file.
    await flushRepairedTo(w, 'round-robin');
    expect(await splitOfNew(lab, server, 10)).toEqual({ isp1: 5, isp2: 5 });

    // A confirmed change stays, and repairs keep it.
    await lab.mwanOk(['apply', '--config', config, '--confirm', '30']);
    const confirmed = await lab.mwanOk(['confirm']);
    expect(confirmed.stdout).toMatch(/^confirmed: the change applied by pid \d+ stays/);
    await flushRepairedTo(w, 'source-hash');
  });

  it('reverts an unconfirmed change whose daemon was killed during the window: the next daemon takes the timer over and keeps the config from before', async () => {
    const write = (strategy: string) => lab.writeConfig(configFor(lab.links, { strategy }), 'sock-orphan.json');
    const config = await write('round-robin');
    const first = await startWatch(config);
    await write('source-hash');
    await lab.mwanOk(['apply', '--config', config, '--confirm', '6']);
    expect(await strategyIn()).toBe('source-hash');
    // The daemon that held the timer dies; the next one starts on the edited file.
    await first.stop();
    const second = await startWatch(config);
    const resumed = await second.waitFor(/^confirm: a change applied with --confirm waits for "mwan confirm" and its timer is gone; this daemon reverts it at \S+ unless confirmed$/, 5000);
    expect(await strategyIn()).toBe('source-hash');
    await second.waitFor(/^confirm: not confirmed in time, reverted; the daemon keeps .*sock-orphan\.json as it was before the change$/, 15_000, resumed.at);
    await strategyBack('round-robin', 'round-robin back');
    // It holds the config from before, not the file: a repair puts round-robin back.
    await flushRepairedTo(second, 'round-robin');
    expect(await splitOfNew(lab, server, 10)).toEqual({ isp1: 5, isp2: 5 });
    expect((await lab.mwan(['confirm'])).exitCode).not.toBe(0);
  });

  it('refuses everyone but root: the socket is root\'s, mode 0600, and a user\'s command says so', async () => {
    await startWatch(await lab.configFor({ strategy: 'round-robin' }));
    const socket = join(lab.runDir, 'mwan.sock');
    const stat = statSync(socket);
    expect(stat.isSocket()).toBe(true);
    expect({ mode: (stat.mode & 0o777).toString(8), uid: stat.uid }).toEqual({ mode: '600', uid: 0 });

    // The user can reach the socket file (its folders are open to them), so only its own mode refuses.
    const home = mkdtempSync(join(tmpdir(), 'mwan-sock-user-'));
    const opened: string[] = [];
    try {
      for (const dir of [lab.dir, lab.runDir]) {
        opened.push(dir);
        chmodSync(dir, 0o755);
      }
      // mwan as the user runs it: the bundle, readable by them.
      mkdirSync(join(home, 'bin'));
      mkdirSync(join(home, 'dist'));
      copyFileSync(join(repo, 'packages/cli/bin/mwan.js'), join(home, 'bin/mwan.js'));
      copyFileSync(join(repo, 'packages/cli/dist/mwan.bundle.mjs'), join(home, 'dist/mwan.bundle.mjs'));
      copyFileSync(join(repo, 'packages/cli/dist/mwan.hand-over.mjs'), join(home, 'dist/mwan.hand-over.mjs'));
      copyFileSync(join(repo, 'packages/cli/package.json'), join(home, 'package.json'));
      chmodSync(home, 0o755);
      const asNobody = (args: string[]) => execa('ip', ['netns', 'exec', lab.ns.router, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...args], { reject: false });
      expect((await asNobody(['test', '-S', socket])).exitCode).toBe(0);
      for (const command of ['status', 'apply', 'down']) {
        const result = await asNobody([process.execPath, join(home, 'bin/mwan.js'), '--run-dir', lab.runDir, command]);
        expect({ command, exitCode: result.exitCode, stderr: result.stderr }).toEqual({
          command, exitCode: 1, stderr: `mwan: only root may talk to mwan watch (${socket}: permission denied)`,
        });
      }
    } finally {
      for (const dir of opened) chmodSync(dir, 0o700);
      rmSync(home, { recursive: true, force: true });
    }
    // Root is answered, and the router was not touched by the refused commands.
    expect((await lab.mwanOk(['status'])).stdout).toMatch(/^table inet mwan: applied/);
  });
});
