import { describe, it, expect } from '@jest/globals';
import { buildSteps, planTopology, tbfArgs } from './topology.js';

const ns = { lan: 'L', router: 'R', srv: 'S' };

describe('planTopology', () => {
  it('numbers links, LAN hosts and server addresses after the article', () => {
    const t = planTopology({ links: 3, lanAddresses: 2, serverAddresses: 2 });
    expect(t.links.map((l) => [l.name, l.routerInterface, l.routerAddress, l.gateway, l.serverInterface])).toEqual([
      ['isp1', 'wan1', '10.37.1.253', '10.37.1.1', 'link1'],
      ['isp2', 'wan2', '10.37.2.253', '10.37.2.1', 'link2'],
      ['isp3', 'wan3', '10.37.3.253', '10.37.3.1', 'link3'],
    ]);
    expect(t.lanAddresses).toEqual(['192.168.157.3', '192.168.157.10', '192.168.157.11']);
    expect(t.serverAddresses).toEqual(['172.16.1.100', '172.16.1.101']);
  });

  it.each([[{ links: 0 }], [{ links: 65 }], [{ lanAddresses: -1 }], [{ serverAddresses: 0 }], [{ links: 1.5 }]])('refuses %j', (options) => {
    expect(() => planTopology(options)).toThrow(RangeError);
  });

  it('allows 64 links', () => {
    expect(planTopology({ links: 64 }).links[63].routerAddress).toBe('10.37.64.253');
  });
});

describe('buildSteps', () => {
  const lines = (steps: ReturnType<typeof buildSteps>, n: string, tool: string) => steps.filter((s) => s.ns === n && s.tool === tool).flatMap((s) => s.lines);

  it('keeps IPv6 off unless asked; with ipv6, every address skips DAD and the server routes the NPTv6 and DMZ prefixes', () => {
    expect(lines(buildSteps(planTopology({ links: 2 }), ns), 'R', 'sysctl')).toContain('net.ipv6.conf.all.disable_ipv6=1');
    const t = planTopology({ links: 2, ipv6: true });
    expect(t.links.map((l) => [l.routerAddress6, l.gateway6, l.nptPrefix6])).toEqual([
      ['2001:db8:37:1::253', '2001:db8:37:1::1', '2001:db8:200:1::/64'],
      ['2001:db8:37:2::253', '2001:db8:37:2::1', '2001:db8:200:2::/64'],
    ]);
    const steps = buildSteps(t, ns);
    expect(lines(steps, 'R', 'sysctl')).toEqual(expect.arrayContaining(['net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.forwarding=1']));
    expect(lines(steps, 'R', 'sysctl').some((l) => l.includes('disable_ipv6'))).toBe(false);
    const v6 = [...lines(steps, 'R', 'ip'), ...lines(steps, 'L', 'ip'), ...lines(steps, 'S', 'ip')].filter((l) => l.startsWith('addr add') && l.includes(':') && !l.endsWith(' lo'));
    expect(v6.length).toBeGreaterThan(0);
    expect(v6.filter((l) => !l.endsWith(' nodad'))).toEqual([]);
    expect(lines(steps, 'S', 'ip')).toEqual(expect.arrayContaining([
      'route add 2001:db8:200:2::/64 via 2001:db8:37:2::253 dev link2',
      'route add 2001:db8:2:100::/64 via 2001:db8:37:2::253 dev link2',
    ]));
    expect(lines(steps, 'R', 'ip').filter((l) => l.startsWith('route'))).toEqual(['route add default via 10.37.1.1 dev wan1', 'route add default via 2001:db8:37:1::1 dev wan1']);
  });

  it('gives the router only a default route via link 1 and sets sysctls before interfaces exist', () => {
    const steps = buildSteps(planTopology({ links: 2 }), ns);
    const routerIp = lines(steps, 'R', 'ip');
    expect(routerIp.filter((l) => l.startsWith('route'))).toEqual(['route add default via 10.37.1.1 dev wan1']);
    const firstSysctl = steps.findIndex((s) => s.ns === 'R' && s.tool === 'sysctl');
    const firstLink = steps.findIndex((s) => s.ns === 'R' && s.tool === 'ip');
    expect(firstSysctl).toBeLessThan(firstLink);
    expect(lines(steps, 'R', 'sysctl')).toContain('net.ipv4.ip_forward=1');
    expect(lines(steps, 'R', 'sysctl')).toContain('net.ipv4.conf.default.rp_filter=1');
    expect(routerIp).toContain('link add wan2 type veth peer name link2 netns S');
    expect(lines(steps, 'S', 'ip')).toContain('addr add 172.16.1.100/32 dev lo');
    expect(lines(steps, 'L', 'ip')).toContain('route add default via 192.168.157.253');
  });

  it('adds the second LAN only when asked', () => {
    expect(lines(buildSteps(planTopology({}), ns), 'R', 'ip').join('\n')).not.toContain('eth1');
    const steps = buildSteps(planTopology({ secondLan: true }), { ...ns, lan2: 'L2' });
    expect(lines(steps, 'R', 'ip')).toContain('addr add 192.168.158.253/24 dev eth1');
    expect(lines(steps, 'L2', 'ip')).toContain('route add default via 192.168.158.253');
  });

  it('shapes each shaped link on both ends', () => {
    const steps = buildSteps(planTopology({ links: 2, shaping: [{ rateMbit: 10 }, undefined] }), ns);
    expect(lines(steps, 'R', 'tc')).toEqual(['qdisc add dev wan1 root tbf rate 10mbit burst 32kb latency 50ms']);
    expect(lines(steps, 'S', 'tc')).toEqual(['qdisc add dev link1 root tbf rate 10mbit burst 32kb latency 50ms']);
  });

  it('sizes the bucket to at least one timer tick of traffic', () => {
    expect(tbfArgs({ rateMbit: 1000 })).toEqual(['rate', '1000mbit', 'burst', '500kb', 'latency', '50ms']);
    expect(tbfArgs({ rateMbit: 5, burstKb: 64, latencyMs: 20 })).toEqual(['rate', '5mbit', 'burst', '64kb', 'latency', '20ms']);
  });
});
