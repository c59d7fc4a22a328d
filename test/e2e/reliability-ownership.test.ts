// apply, down, rollback and the --confirm revert touch only what mwan owns: table inet mwan and
// rules and routes with protocol 109. A firewall, user rules (one at mwan's own priority) and a
// user routing table in the router stay byte for byte as they were.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Lab } from '@mwan/lab';
import { configFor } from '@mwan/lab';
import { createLab, leftovers, pollUntil } from './helpers.js';
import { alive, FaultTools, faultState, killIfAlive, routerState, startMwan } from './reliability-helpers.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = 'mwrelown';
jest.setTimeout(60_000);

const FIREWALL = `table inet userfw {
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tiifname "lo" accept comment "user: loopback"
\t}
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tct state invalid drop comment "user: invalid"
\t}
}
table ip usernat {
\tchain post {
\t\ttype nat hook postrouting priority srcnat + 10; policy accept;
\t\toifname "wan3" ip daddr 10.99.0.0/16 masquerade
\t}
}
`;

const USER_IP = [
  'rule add pref 100 from 192.168.157.99 lookup 200',
  'rule add pref 31000 to 10.99.0.0/16 lookup 200',
  'rule add pref 31001 fwmark 0x77 lookup 200',
  'route add default via 10.37.2.1 dev wan2 table 200',
  'route add 10.99.0.0/16 via 10.37.3.1 dev wan3 table 200',
  'route add 10.98.0.0/16 via 10.37.1.1 dev wan1',
  'route add 10.97.0.0/16 via 10.37.2.1 dev wan2 proto static metric 50',
];

let lab: Lab;
let faults: FaultTools;
let A: string;
let B: string;
let S0: Awaited<ReturnType<typeof routerState>>;
let userOnly: Awaited<ReturnType<typeof foreign>>;
const timers: number[] = [];

/** Everything in the router that is not mwan's, as the tools print it. */
async function foreign() {
  const nft = await Promise.all(['inet userfw', 'ip usernat'].map((t) => lab.exec('router', 'nft', ['list', 'table', ...t.split(' ')]).then((r) => r.stdout)));
  const notOurs = async (args: string[]) => JSON.stringify((JSON.parse((await lab.exec('router', 'ip', ['-N', '-json', ...args])).stdout) as { protocol?: string }[]).filter((x) => x.protocol !== '109'));
  return { nft, rules: await notOurs(['rule', 'show']), routes: await notOurs(['route', 'show', 'table', 'all']) };
}

beforeAll(async () => {
  lab = await createLab(PREFIX, { links: 3 });
  faults = new FaultTools();
  await lab.exec('router', 'nft', ['-f', '-'], { input: FIREWALL });
  await lab.exec('router', 'ip', ['-batch', '-'], { input: `${USER_IP.join('\n')}\n` });
  A = await lab.configFor({ strategy: 'weighted', weights: [1, 2, 3] }, 'a.json');
  B = await lab.configFor({ strategy: 'round-robin', only: [1, 3] }, 'b.json');
  S0 = await routerState(lab);
  userOnly = await foreign();
  expect(userOnly.nft.join('\n')).toMatch(/user: loopback[\s\S]*user: invalid[\s\S]*masquerade/);
  expect(userOnly.rules).toContain('"fwmark":"0x77"');
});

afterAll(async () => {
  for (const pid of timers) killIfAlive(pid);
  faults?.remove();
  await lab?.destroy();
  expect(await leftovers(PREFIX)).toEqual([]);
});

describe('what is not mwan\'s stays as it was', () => {
  it('through apply and a re-apply that adds and removes links', async () => {
    await lab.mwanOk(['--config', A, 'apply']);
    expect(await foreign()).toEqual(userOnly);
    await lab.mwanOk(['--config', B, 'apply']);
    expect(await foreign()).toEqual(userOnly);
    await lab.mwanOk(['--config', A, 'apply']);
    expect(await foreign()).toEqual(userOnly);
  });

  it('through rollbacks, before and after the table swap, with a user rule among mwan\'s', async () => {
    const moved = configFor(lab.links, { only: [1, 2, 3] });
    moved.links[2].table = 1099;
    const three = await lab.writeConfig(moved, 'three.json');
    for (const [args, env] of [
      // The kernel takes the routes, then the step is reported failed: they must go again.
      [['--config', three, 'apply'], faults.env({ tool: 'ip', match: 'route replace default via 10\\.37\\.3\\.1', action: 'fail-after', message: 'Error: Nexthop has invalid gateway.' }, faultState(lab, 'own-routes'))],
      [['--config', B, 'apply'], faults.env({ tool: 'conntrack', match: '^conntrack -D', action: 'fail', message: 'Operation not permitted' }, faultState(lab, 'own'))],
    ] as const) {
      const before = await routerState(lab);
      const run = await startMwan(lab, args, env).result;
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain('the previous state was restored');
      expect(await routerState(lab)).toEqual(before);
      expect(await foreign()).toEqual(userOnly);
    }
  });

  it('refuses a routing table that holds routes it did not create', async () => {
    const before = await routerState(lab);
    const config = configFor(lab.links, { only: [1, 2] });
    config.links[1].table = 200;
    const run = await lab.mwan(['--config', await lab.writeConfig(config, 'user-table.json'), 'apply']);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('routing table 200 holds routes mwan did not create');
    expect(await routerState(lab)).toEqual(before);
  });

  it('through a --confirm revert', async () => {
    const before = await routerState(lab);
    await lab.mwanOk(['--config', B, 'apply', '--confirm', '1']);
    const { timerPid } = JSON.parse(readFileSync(join(lab.runDir, 'confirm.json'), 'utf8')) as { timerPid: number };
    timers.push(timerPid);
    expect(await foreign()).toEqual(userOnly);
    await pollUntil(async () => (alive(timerPid) ? undefined : true), 'revert', 20_000);
    expect(await routerState(lab)).toEqual(before);
    expect(await foreign()).toEqual(userOnly);
  });

  it('through down, which leaves the router as it was before mwan', async () => {
    await lab.mwanOk(['down']);
    expect(await routerState(lab)).toEqual(S0);
    const again = await lab.mwanOk(['down']);
    expect(again.stdout).toBe('nothing to remove');
    expect(await routerState(lab)).toEqual(S0);
  });
});
