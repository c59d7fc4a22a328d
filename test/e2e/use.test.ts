// `mwan use LINK -- CMD`: the router's own connections of one command go through the chosen link,
// whatever the main table's default route is. The command is BusyBox's nc, a statically linked
// binary (no LD_PRELOAD could reach it): the server in the lab says which address it saw, which
// is the link's. Everything runs in the lab's namespaces; the cgroup is created and removed.
import { access, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execa } from 'execa';
import { configFor, findMwanCli, type Lab, type TrafficServer } from '@mwan/lab';
import { createLab, leftovers, pollUntil } from './helpers.js';

jest.setTimeout(90_000);

const PREFIX = 'mwe2euse';
const BUSYBOX = '/bin/busybox';

describe('mwan use', () => {
  let lab: Lab;
  let server: TrafficServer;
  let config: string;

  beforeAll(async () => {
    const { stdout } = await execa('file', ['-L', BUSYBOX], { reject: false });
    if (!stdout.includes('statically linked')) throw new Error(`${BUSYBOX} is not a static binary (install busybox-static: scripts/setup.sh does)`);
    lab = await createLab(PREFIX, { links: 2 });
    server = await lab.startServer({ quiet: true });
    // Link 2 is a backup tier: nothing but `mwan use` sends the router's connections there.
    const base = configFor(lab.links, { strategy: 'round-robin' });
    config = await lab.writeConfig({ ...base, links: base.links.map((l, i) => (i === 1 ? { ...l, priority: 1 } : l)) }, 'use.json');
    await lab.mwanOk(['apply', '--config', config]);
    // The router's main table sends everything by link 1.
    await lab.exec('router', 'ip', ['route', 'replace', 'default', 'via', lab.links[0].gateway]);
  }, 60_000);

  afterAll(async () => {
    server?.stop();
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  }, 60_000);

  // nsenter, not `ip netns exec`: that one mounts a /sys of its own, without the cgroup hierarchies.
  const use = (args: readonly string[]) => execa('nsenter', [`--net=/run/netns/${lab.ns.router}`, process.execPath, findMwanCli(), '--run-dir', lab.runDir, 'use', ...args], { reject: false });
  const seenBy = (stdout: string) => (JSON.parse(stdout.split('\n')[0]) as { src: string }).src;
  const cgroupDirs = async () => {
    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
    const mount = mountinfo.split('\n').find((l) => l.split(' - ')[1]?.startsWith('cgroup2 '))!.split(' ')[4];
    const { stdout } = await execa('ls', [mount]);
    return stdout.split('\n').filter((n) => n.startsWith('mwan-use-'));
  };
  const useRules = async () => (await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'])).stdout.split('\n').filter((l) => l.includes('mwan: use'));

  it('sends a static binary\'s connections through the chosen link, with its NAT address, and cleans up', async () => {
    // Without mwan use: the main table's route, link 1.
    const plain = await lab.exec('router', BUSYBOX, ['nc', '-w', '3', lab.serverAddress, '7000']);
    expect(seenBy(plain.stdout)).toBe(lab.links[0].routerAddress);

    for (const link of lab.links) {
      const result = await use([link.name, '--', BUSYBOX, 'nc', '-w', '3', lab.serverAddress, '7000']);
      expect({ exitCode: result.exitCode, src: seenBy(result.stdout) }).toEqual({ exitCode: 0, src: link.routerAddress });
      expect(result.stderr).toBe(link.index === 2 ? 'mwan: warning: link isp2 is a backup (tier 1; new connections use isp1); using it anyway' : '');
    }
    // The connection was the link's in conntrack too.
    const entries = await lab.conntrack();
    const viaLink2 = entries.filter((e) => e.original.dst === lab.serverAddress && e.reply.dst === lab.links[1].routerAddress);
    expect(viaLink2.length).toBeGreaterThanOrEqual(1);
    expect(viaLink2.every((e) => (e.mark & 0xff) === 2)).toBe(true);
    expect(await useRules()).toEqual([]);
    expect(await cgroupDirs()).toEqual([]);
  });

  it('passes on the command\'s exit code, and refuses an unknown link with exit 2', async () => {
    expect((await use(['isp1', '--', BUSYBOX, 'sh', '-c', 'exit 7'])).exitCode).toBe(7);
    expect((await use(['isp1', '--', BUSYBOX, 'sh', '-c', 'kill -TERM $$'])).exitCode).toBe(128 + 15);
    const unknown = await use(['nope', '--', BUSYBOX, 'true']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toBe('mwan: LINK: "nope" is not a link of the last apply (isp1, isp2)');
    const missing = await use(['isp1', '--', '/nonexistent/program']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/^mwan: cannot run \/nonexistent\/program: /);
    expect(await useRules()).toEqual([]);
    expect(await cgroupDirs()).toEqual([]);
    await access(BUSYBOX);
  });

  it('warns about a link that mwan watch has found down, and still uses it', async () => {
    const checked = await lab.writeConfig({ ...configFor(lab.links, { strategy: 'round-robin' }), health: { targets: [lab.serverAddress] } }, 'use-watch.json');
    await lab.exec('srv', 'nft', ['-f', '-'], { input: `table inet mwanuse_drop {\n\tchain in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\ticmp type echo-request iifname "${lab.links[1].serverInterface}" drop\n\t}\n}\n` });
    const watch = execa('ip', ['netns', 'exec', lab.ns.router, process.execPath, findMwanCli(), '--run-dir', lab.runDir, 'watch', '--config', checked], { reject: false, buffer: false, stdin: 'ignore' });
    try {
      await pollUntil(async () => {
        const status = JSON.parse((await lab.mwanOk(['status', '--json', '--config', checked])).stdout) as { health?: { running: boolean; links: { name: string; state: string }[] } };
        return status.health?.running && status.health.links.find((l) => l.name === 'isp2')?.state === 'down' ? true : undefined;
      }, 'isp2 down in health.json', 15_000, 200);
      // Only the probes are dropped: a TCP connection through the link still works.
      const result = await use(['isp2', '--', BUSYBOX, 'nc', '-w', '3', lab.serverAddress, '7000']);
      expect(result.stderr).toBe('mwan: warning: link isp2 is down (timeout); using it anyway');
      expect({ exitCode: result.exitCode, src: seenBy(result.stdout) }).toEqual({ exitCode: 0, src: lab.links[1].routerAddress });
    } finally {
      watch.kill('SIGTERM');
      await watch;
      await lab.exec('srv', 'nft', ['delete', 'table', 'inet', 'mwanuse_drop']);
    }
    await lab.mwanOk(['apply', '--config', config]);
  });

  it('works on a ruleset without an output chain, through a chain of its own', async () => {
    const base = configFor(lab.links, { strategy: 'round-robin' });
    const plain = await lab.writeConfig({ ...base, inbound: false, routerTraffic: 'off' }, 'use-plain.json');
    await lab.mwanOk(['apply', '--config', plain]);
    expect((await lab.exec('router', 'nft', ['list', 'chain', 'inet', 'mwan', 'output'], { reject: false })).exitCode).not.toBe(0);
    const result = await use(['isp2', '--', BUSYBOX, 'nc', '-w', '3', lab.serverAddress, '7000']);
    expect({ exitCode: result.exitCode, src: seenBy(result.stdout) }).toEqual({ exitCode: 0, src: lab.links[1].routerAddress });
    const chains = (await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'])).stdout;
    expect(chains).not.toMatch(/chain use_\d+/);
    await lab.mwanOk(['apply', '--config', config]);
  });
});
