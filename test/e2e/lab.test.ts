// The lab itself, before any mwan: topology, traffic tools, cleanup. Real namespaces, root only.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { listNamespaces, sweepStaleLabs, type Lab } from '@mwan/lab';
import { createLab, leftovers, pollUntil } from './helpers.js';

// Namespaces, real traffic and several CLI runs per test (testTimeout in a jest project entry is not applied).
jest.setTimeout(120_000);

const PREFIX = 'mwe2elab';
const repo = fileURLToPath(new URL('../../', import.meta.url));

interface IpAddr {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

async function addresses(lab: Lab, role: 'lan' | 'router' | 'srv' | 'lan2'): Promise<Record<string, string[]>> {
  const { stdout } = await lab.exec(role, 'ip', ['-j', 'addr', 'show']);
  return Object.fromEntries(
    (JSON.parse(stdout) as IpAddr[]).map((i) => [i.ifname, i.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)]),
  );
}

/** A masquerade on link 1 that is not mwan's: lets the LAN reach the server before mwan exists. */
const TEST_NAT = 'table ip labcheck {\n\tchain post {\n\t\ttype nat hook postrouting priority srcnat;\n\t\toifname "wan1" masquerade\n\t}\n}\n';

describe('lab', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await createLab(PREFIX, { links: 3, lanAddresses: 2, serverAddresses: 2, secondLan: true });
    await lab.startServer();
  });

  afterAll(async () => {
    await lab?.destroy();
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  it('builds the topology with the planned addresses and routes', async () => {
    expect(await addresses(lab, 'lan')).toMatchObject({ eth0: ['192.168.157.3/24', '192.168.157.10/24', '192.168.157.11/24'] });
    expect(await addresses(lab, 'router')).toMatchObject({
      eth0: ['192.168.157.253/24'],
      eth1: ['192.168.158.253/24'],
      wan1: ['10.37.1.253/24'],
      wan2: ['10.37.2.253/24'],
      wan3: ['10.37.3.253/24'],
    });
    expect(await addresses(lab, 'srv')).toMatchObject({
      lo: ['127.0.0.1/8', '172.16.1.100/32', '172.16.1.101/32'],
      link1: ['10.37.1.1/24'],
      link3: ['10.37.3.1/24'],
    });
    expect(await addresses(lab, 'lan2')).toMatchObject({ eth0: ['192.168.158.3/24'] });

    const routes = JSON.parse((await lab.exec('router', 'ip', ['-j', 'route', 'show'])).stdout) as { dst: string; gateway?: string; dev: string }[];
    expect(routes.filter((r) => r.gateway)).toEqual([expect.objectContaining({ dst: 'default', gateway: '10.37.1.1', dev: 'wan1' })]);
    expect(routes.some((r) => r.dst.startsWith('172.16.'))).toBe(false);
    expect((await lab.exec('router', 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout).toBe('1');
  });

  it('reaches every link gateway from the router, over TCP and UDP, from that link address', async () => {
    for (const link of lab.links) {
      for (const proto of ['tcp', 'udp'] as const) {
        const results = await lab.connect({ role: 'router', proto, from: link.routerAddress, to: link.gateway, count: 3 });
        expect(results.map((r) => [r.ok, r.seen?.src, r.seen?.dst])).toEqual(Array(3).fill([true, link.routerAddress, link.gateway]));
        expect(new Set(results.map((r) => r.local?.port)).size).toBe(3);
      }
    }
  });

  it('does not let the LAN reach the server without NAT (the server has no route back)', async () => {
    const [result] = await lab.connect({ count: 1, timeoutMs: 500 });
    expect(result.ok).toBe(false);
  });

  it('carries LAN traffic through a plain masquerade: TCP, UDP, a long-lived connection and bounded load', async () => {
    await lab.exec('router', 'nft', ['-f', '-'], { input: TEST_NAT });
    try {
      const tcp = await lab.connect({ count: 20, from: lab.lanAddresses });
      expect(tcp.filter((r) => r.ok)).toHaveLength(20);
      expect(new Set(tcp.map((r) => r.seen?.src))).toEqual(new Set(['10.37.1.253']));
      expect(new Set(tcp.map((r) => r.local?.address))).toEqual(new Set(lab.lanAddresses));

      const udp = await lab.connect({ proto: 'udp', count: 20, to: lab.serverAddresses[1] });
      expect(udp.filter((r) => r.ok && r.seen?.dst === '172.16.1.101')).toHaveLength(20);

      const entries = await lab.conntrack();
      const udpEntries = entries.filter((e) => e.proto === 'udp' && e.original.src === lab.lanAddress && e.original.dst === '172.16.1.101');
      expect(udpEntries).toHaveLength(20);
      expect(udpEntries.every((e) => e.reply.dst === '10.37.1.253')).toBe(true);

      const held = await lab.openLongLived();
      try {
        expect(held.seen.src).toBe('10.37.1.253');
        const again = await held.ping();
        expect([again.src, again.sport]).toEqual([held.seen.src, held.seen.sport]);
      } finally {
        held.close();
      }

      const report = await lab.load({ count: 300, concurrency: 8 });
      expect(report).toMatchObject({ started: 300, completed: 300, failed: 0, stalled: 0 });
      const timed = await lab.load({ durationMs: 500, concurrency: 4 });
      expect(timed.completed).toBeGreaterThan(0);
      expect(timed.elapsedMs).toBeGreaterThanOrEqual(500);
    } finally {
      await lab.exec('router', 'nft', ['delete', 'table', 'ip', 'labcheck'], { reject: false });
    }
  });

  it('counts requests that get no answer as failed and slow ones as stalled', async () => {
    // Nothing listens on 7100 and the router drops instead of rejecting: every request times out.
    await lab.exec('router', 'nft', ['-f', '-'], { input: `${TEST_NAT}table ip labdrop {\n\tchain forward_drop {\n\t\ttype filter hook forward priority 0;\n\t\ttcp dport 7100 drop\n\t}\n}\n` });
    try {
      const report = await lab.load({ count: 4, port: 7100, concurrency: 4, timeoutMs: 1200, stallMs: 1000 });
      expect(report).toMatchObject({ started: 4, completed: 0, failed: 4, stalled: 4, errors: { timeout: 4 } });
    } finally {
      await lab.exec('router', 'nft', ['delete', 'table', 'ip', 'labcheck'], { reject: false });
      await lab.exec('router', 'nft', ['delete', 'table', 'ip', 'labdrop'], { reject: false });
    }
  });
});

describe('lab options and cleanup', () => {
  afterAll(async () => {
    expect(await leftovers(PREFIX)).toEqual([]);
  });

  it('shapes each link with tbf on both ends', async () => {
    const lab = await createLab(PREFIX, { links: 2, shaping: [{ rateMbit: 20 }, { rateMbit: 5, latencyMs: 20 }] });
    try {
      const qdisc = async (role: 'router' | 'srv', dev: string) => {
        const { stdout } = await lab.exec(role, 'tc', ['-j', 'qdisc', 'show', 'dev', dev]);
        return (JSON.parse(stdout) as { kind: string; options: { rate?: number } }[])[0];
      };
      expect(await qdisc('router', 'wan1')).toMatchObject({ kind: 'tbf', options: { rate: 20_000_000 / 8 } });
      expect(await qdisc('srv', 'link1')).toMatchObject({ kind: 'tbf', options: { rate: 20_000_000 / 8 } });
      expect(await qdisc('router', 'wan2')).toMatchObject({ kind: 'tbf', options: { rate: 5_000_000 / 8 } });
      expect(await qdisc('srv', 'link2')).toMatchObject({ kind: 'tbf', options: { rate: 5_000_000 / 8 } });
    } finally {
      await lab.destroy();
    }
  });

  it('builds 64 links', async () => {
    const lab = await createLab(PREFIX, { links: 64 });
    try {
      await lab.startServer();
      const last = lab.links[63];
      const [result] = await lab.connect({ role: 'router', from: last.routerAddress, to: last.gateway });
      expect(result.seen?.src).toBe('10.37.64.253');
    } finally {
      await lab.destroy();
    }
  });

  it('destroy removes namespaces, directories and the processes running in them', async () => {
    const lab = await createLab(PREFIX);
    await lab.startServer();
    const pids = (await execa('ip', ['netns', 'pids', lab.ns.srv])).stdout.split('\n').filter(Boolean).map(Number);
    expect(pids.length).toBeGreaterThan(0);
    await lab.destroy();
    const names = await listNamespaces();
    expect(Object.values(lab.ns).filter((n) => names.includes(n as string))).toEqual([]);
    expect(existsSync(lab.dir)).toBe(false);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await lab.destroy(); // twice is fine
  });

  it('sweeps namespaces of dead creators and leaves those of living ones', async () => {
    const exited = execa('true');
    const dead = exited.pid as number;
    await exited;
    const stale = `${PREFIX}-${dead}-abc123-router`;
    const living = `${PREFIX}-${process.pid}-abc123-router`;
    await execa('ip', ['netns', 'add', stale]);
    await execa('ip', ['netns', 'add', living]);
    try {
      const removed = await sweepStaleLabs(PREFIX);
      expect(removed).toContain(stale);
      const names = await listNamespaces();
      expect(names).not.toContain(stale);
      expect(names).toContain(living);
    } finally {
      await execa('ip', ['netns', 'del', stale], { reject: false });
      await execa('ip', ['netns', 'del', living], { reject: false });
    }
  });

  // How the child ends, and the exit code or signal it ends with.
  const endings: Record<string, { code: string; expected: number | string }> = {
    SIGTERM: { code: 'setInterval(() => {}, 1000);', expected: 'SIGTERM' },
    'process.exit': { code: 'process.exit(3);', expected: 3 },
    // The exit handler finishes a removal the crash cut short.
    'a crash during destroy': { code: 'void lab.destroy();\nsetImmediate(() => { throw new Error("crash"); });', expected: 1 },
  };

  it.each(Object.keys(endings))('removes the lab when its process ends by %s', async (how) => {
    const dist = `${repo}packages/lab/dist/index.js`;
    expect(existsSync(dist)).toBe(true); // the e2e scripts build first
    const script = [
      `const { Lab } = await import(${JSON.stringify(dist)});`,
      `const lab = await Lab.create({ prefix: ${JSON.stringify(PREFIX)} });`,
      'await lab.startServer();',
      'console.log(JSON.stringify(lab.ns));',
      'await new Promise((resolve) => setTimeout(resolve, 100));',
      endings[how].code,
    ].join('\n');
    const child = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, buffer: false, timeout: 30_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    let ns: Record<string, string>;
    try {
      ns = await pollUntil(async () => (output.includes('\n') ? (JSON.parse(output) as Record<string, string>) : undefined), 'child lab', 10_000, 20);
      if (how === 'SIGTERM') child.kill('SIGTERM');
    } finally {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await child;
      clearTimeout(timer);
    }
    try {
      const result = await child;
      expect(how === 'SIGTERM' ? result.signal : result.exitCode).toBe(endings[how].expected);
      const names = await listNamespaces();
      expect(Object.values(ns).filter((n) => names.includes(n))).toEqual([]);
    } finally {
      // Whatever the dead child left (only when this test fails) is removed by the sweep.
      await sweepStaleLabs(PREFIX);
    }
  });
});
