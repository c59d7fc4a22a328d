import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { MwanError } from './errors.js';
import { loadConfigFile, parseConfig } from './load-config.js';

const good = () => ({
  lan: ['eth0'],
  links: [
    { name: 'isp1', interface: 'eth1', gateway: '10.37.1.1', weight: 1, snat: '10.37.1.253' },
    { name: 'isp2', interface: 'eth2', gateway: '10.37.2.1', weight: 3, snat: 'masquerade' },
  ],
  strategy: { name: 'weighted', options: { mode: 'random' } },
});

function problemsOf(data: unknown): string[] {
  try {
    parseConfig(typeof data === 'string' ? data : JSON.stringify(data));
  } catch (error) {
    expect(error).toBeInstanceOf(MwanError);
    expect((error as MwanError).code).toBe('config');
    return [...(error as MwanError).problems];
  }
  throw new Error('config was accepted');
}

function withLink(patch: Record<string, unknown>, index = 1) {
  const config = good();
  Object.assign(config.links[index], patch);
  return config;
}

describe('config validation', () => {
  it('accepts the documented example', () => {
    expect(parseConfig(JSON.stringify(good())).links).toHaveLength(2);
  });

  it.each([
    ['interface with a semicolon', withLink({ interface: 'eth0;' }), 'links[1].interface: "eth0;" is not a valid interface name (letters, digits, . _ - @, at most 15)'],
    ['interface with a quote', withLink({ interface: 'et"h' }), 'links[1].interface: "et\\"h" is not a valid interface name'],
    ['interface too long', withLink({ interface: 'abcdefghijklmnop' }), 'links[1].interface: "abcdefghijklmnop" is not a valid interface name'],
    ['interface ..', withLink({ interface: '..' }), 'links[1].interface: ".." is not a valid interface name'],
    ['weight 0', withLink({ weight: 0 }), 'links[1].weight: 0 is not a whole number from 1 to 1000'],
    ['fractional weight', withLink({ weight: 1.5 }), 'links[1].weight: 1.5 must be a whole number'],
    ['weight as string', withLink({ weight: '3' }), 'links[1].weight: "3" must be a whole number'],
    ['gateway not IPv4', withLink({ gateway: '10.37.2' }), 'links[1].gateway: "10.37.2" is not an IPv4 address'],
    ['snat nonsense', withLink({ snat: 'yes' }), 'links[1].snat: "yes" is not an IPv4 address, "masquerade" or "none"'],
    ['bad link name', withLink({ name: 'ISP 2' }), 'links[1].name: "ISP 2" is not a link name (a-z, 0-9, _ and -, at most 15)'],
    ['unknown key', withLink({ colour: 'red' }), 'links[1]: unexpected property "colour". Expected properties: "name", "interface"'],
    ['reserved table', withLink({ table: 254 }), 'links[1].table: 254 is not a routing table number'],
    ['mark 0', withLink({ mark: 0 }), 'links[1].mark: 0 is not a firewall mark from 1 to 4294967295'],
  ])('%s', (_, config, expected) => {
    const problems = problemsOf(config);
    expect(problems).toHaveLength(1);
    expect(problems[0].startsWith(expected)).toBe(true);
  });

  it('names every problem on its own line', () => {
    const config = withLink({ weight: 0, interface: 'a b' });
    (config as Record<string, unknown>).extra = 1;
    const problems = problemsOf(config);
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/^\(root\): unexpected property "extra"/m);
  });

  it('requires at least one LAN interface and one link', () => {
    expect(problemsOf({ ...good(), links: [] })).toEqual(['links: must have at least 1 item']);
    expect(problemsOf({ ...good(), lan: [] })).toEqual(['lan: must have at least 1 item']);
    expect(problemsOf({ lan: ['eth0'] })).toEqual(['(root): missing required property "links"']);
  });

  it('finds duplicates across fields', () => {
    expect(problemsOf(withLink({ name: 'isp1' }))).toEqual(['links[1].name: "isp1" is already used by links[0]']);
    expect(problemsOf(withLink({ interface: 'eth1' }))).toEqual(['links[1].interface: "eth1" is already used by links[0]']);
    expect(problemsOf(withLink({ interface: 'eth0' }))).toEqual(['links[1].interface: "eth0" is also a LAN interface']);
    const marks = good();
    Object.assign(marks.links[0], { mark: 7 });
    Object.assign(marks.links[1], { mark: 7 });
    expect(problemsOf(marks)).toEqual(['links[1].mark: 7 is already used by links[0]']);
  });

  it('rejects invalid JSON and wrong top-level types', () => {
    expect(problemsOf('{ "lan": ')[0]).toMatch(/^config: not valid JSON/);
    expect(problemsOf('[]')).toEqual(['(root): [] must be an object']);
    expect(problemsOf({ ...good(), strategy: 5 })[0]).toMatch(/^strategy: 5 is not a strategy name/);
  });
});

describe('config files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mwan-config-'));

  it('refuses a directory, a missing file and an oversized file', () => {
    mkdirSync(join(dir, 'sub'));
    expect(() => loadConfigFile(join(dir, 'sub'))).toThrow(/is a directory/);
    expect(() => loadConfigFile(join(dir, 'missing.json'))).toThrow(/cannot read .*ENOENT/);
    writeFileSync(join(dir, 'big.json'), ' '.repeat(2 * 1024 * 1024));
    expect(() => loadConfigFile(join(dir, 'big.json'))).toThrow(/2097152 bytes; a config may be at most 1048576/);
  });

  it('reads a good file', () => {
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(good()));
    expect(loadConfigFile(join(dir, 'ok.json')).lan).toEqual(['eth0']);
  });
});

describe('health settings', () => {
  it('accepts global defaults with per-link overrides and tiers', () => {
    const config = { ...good(), health: { targets: ['172.16.1.100'], interval: 0.5 } };
    Object.assign(config.links[1], { priority: 1, health: { method: 'tcp', port: 80 } });
    expect(parseConfig(JSON.stringify(config)).links[1].priority).toBe(1);
  });

  it('names the field of a bad health setting', () => {
    expect(problemsOf({ ...good(), health: { targets: ['8.8.8'] } })).toEqual(['health.targets[0]: "8.8.8" is not an IPv4 or IPv6 address']);
    expect(problemsOf({ ...good(), health: { interval: 0 } })[0]).toMatch(/^health.interval: 0 is not seconds between probes/);
    expect(problemsOf({ ...good(), health: { method: 'tcp' } })).toEqual(['health.port: required with method "tcp"']);
    expect(problemsOf(withLink({ health: { method: 'tcp' } }))).toEqual(['links[1].health.port: required with method "tcp"']);
    expect(problemsOf(withLink({ priority: -1 }))[0]).toMatch(/^links\[1\].priority: -1 is not a tier/);
    expect(problemsOf({ ...good(), health: { hook: 'relative/path' } })[0]).toMatch(/^health.hook: "relative\/path" is not an absolute path/);
  });
});
