// Never a half-applied router: every failing apply puts back exactly what was there, and an
// apply killed at any point leaves what the next `mwan apply` or `mwan down` fully repairs.
// Real namespaces; faults come from a real kernel where one can be provoked (a missing interface,
// an unreachable gateway, a table another process owns) and otherwise from stand-in tools on the
// PATH of mwan only (fault-tools/fault.js).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execa } from 'execa';
import { configFor, type Lab } from '@mwan/lab';
import { createLab, leftovers, pollUntil } from './helpers.js';
import {
  FaultTools, faultState, killIfAlive, reached, routerState, routerSysctls, runDirFiles, startMwan, type Fault,
} from './reliability-helpers.js';

const PREFIX = 'mwrelfault';
jest.setTimeout(60_000);

let lab: Lab;
let faults: FaultTools;
let A: string;
let B: string;
/** Before any mwan; after A; after B applied over A. */
let S0: { state: Awaited<ReturnType<typeof routerState>>; sysctls: Record<string, string> };
let SB: typeof S0;

const snapshot = async () => ({ state: await routerState(lab), sysctls: await routerSysctls(lab) });

beforeAll(async () => {
  lab = await createLab(PREFIX, { links: 4 });
  faults = new FaultTools();
  A = await lab.configFor({ only: [1, 2, 3], strategy: 'weighted', weights: [1, 2, 3] }, 'a.json');
  // B touches every step: isp4 comes with a mark of its own (route, rule), isp2 goes (stale rule,
  // stale route, its connections), isp3 changes weight (the table), wan4 gets rp_filter 2.
  const b = configFor(lab.links, { only: [1, 3, 4], strategy: 'round-robin', weights: [1, 5, 1] });
  b.links[2].mark = 9;
  B = await lab.writeConfig(b, 'b.json');
  S0 = await snapshot();
  await lab.mwanOk(['--config', A, 'apply']);
  await lab.mwanOk(['--config', B, 'apply']);
  SB = await snapshot();
});

afterAll(async () => {
  faults?.remove();
  await lab?.destroy();
  expect(await leftovers(PREFIX)).toEqual([]);
});

/** Back to A, as an operator would have it before trying B. */
async function underA(): Promise<typeof S0> {
  await lab.mwanOk(['--config', A, 'apply']);
  return snapshot();
}

describe('a failing apply restores the previous state byte for byte', () => {
  async function expectRestored(args: string[], step: string, detail: RegExp, env: NodeJS.ProcessEnv = {}, restored = 'the previous state was restored') {
    const before = await underA();
    const files = runDirFiles(lab);
    const run = await startMwan(lab, args, env).result;
    expect(run.exitCode).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toContain(`mwan: apply failed at step "${step}": `);
    expect(run.stderr).toMatch(detail);
    expect(lines.at(-1)).toBe(`mwan: ${restored}`);
    expect(await snapshot()).toEqual(before);
    expect(runDirFiles(lab)).toEqual(files);
  }

  it('no link whose interface can carry traffic (a link down is not an error, all of them are): refused before any change', async () => {
    const path = await lab.writeConfig({
      lan: ['eth0'],
      links: [{ name: 'isp8', interface: 'wan8', gateway: '10.37.8.1' }, { name: 'isp9', interface: 'wan9', gateway: '10.37.9.1' }],
    }, 'missing-interfaces.json');
    await expectRestored(['--config', path, 'apply'], 'check', /no link can carry traffic: isp8: interface wan8 does not exist \(absent\); isp9: interface wan9 does not exist \(absent\)/, {}, 'nothing was changed');
  });

  it('ip route fails after the routes before it were added: they are removed again', async () => {
    const config = configFor(lab.links, { only: [1, 2, 4, 3] });
    config.links[3].table = 1099;
    const path = await lab.writeConfig(config, 'route-fails.json');
    // The real `ip -batch` adds the new routes of isp4 and of isp3 (in a new table), then reports a failure.
    const fault: Fault = { tool: 'ip', match: 'route replace default via 10\\.37\\.3\\.1', action: 'fail-after', message: 'Error: Nexthop has invalid gateway.\nCommand failed -:2' };
    await expectRestored(['--config', path, 'apply'], 'routes', /Nexthop has invalid gateway/, faults.env(fault, faultState(lab, 'routes')));
  });

  const injected: Array<[string, Fault]> = [
    ['nft', { tool: 'nft', match: '^nft -f -\\n[\\s\\S]*table inet mwan \\{', action: 'fail', message: 'Error: Could not process rule: Cannot allocate memory' }],
    ['stale rules', { tool: 'ip', match: 'rule del', action: 'fail', message: 'RTNETLINK answers: Operation not permitted\nCommand failed -:1' }],
    ['stale routes', { tool: 'ip', match: 'route del', action: 'fail', message: 'RTNETLINK answers: Operation not permitted' }],
    ['conntrack', { tool: 'conntrack', match: '^conntrack -D', action: 'fail', message: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted' }],
  ];

  it.each(injected)('step "%s" fails after the table swap has begun', async (step, fault) => {
    const state = faultState(lab, step.replace(' ', '-'));
    await expectRestored(['--config', B, 'apply'], step, /Operation not permitted|Cannot allocate memory/, faults.env(fault, state));
  });

  it('table inet mwan owned by another process: nft rejects it at the check, nothing changes', async () => {
    await lab.mwanOk(['down']);
    const owner = execa('ip', ['netns', 'exec', lab.ns.router, 'nft', '-i'], { stdin: 'pipe', reject: false });
    try {
      owner.stdin?.write('add table inet mwan { flags owner; }\n');
      await pollUntil(async () => ((await lab.exec('router', 'nft', ['list', 'table', 'inet', 'mwan'], { reject: false })).stdout.includes('flags owner') ? true : undefined), 'owned table');
      const before = await snapshot();
      const run = await lab.mwan(['--config', A, 'apply']);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(/^mwan: apply failed at step "check": nft rejected the ruleset:/);
      expect(run.stderr).toContain('Operation not permitted');
      expect(run.stderr.trim().split('\n').at(-1)).toBe('mwan: nothing was changed');
      expect(await snapshot()).toEqual(before);
      // down leaves someone else's table alone too, and says so.
      const down = await lab.mwan(['down']);
      expect(down.exitCode).toBe(1);
      expect(down.stderr).toContain('down: nft delete table inet mwan');
      expect(await snapshot()).toEqual(before);
    } finally {
      owner.stdin?.end();
      owner.kill('SIGTERM');
      await owner;
    }
    await pollUntil(async () => ((await lab.exec('router', 'nft', ['list', 'ruleset'])).stdout === S0.state.ruleset ? true : undefined), 'owned table gone with its owner');
  });
});

describe('an apply killed with SIGKILL is repaired by the next apply or down', () => {
  const points: Array<[string, Fault]> = [
    ['routes', { tool: 'ip', match: 'route replace', action: 'hang-after' }],
    ['rules', { tool: 'ip', match: 'rule add', action: 'hang-after' }],
    ['nft', { tool: 'nft', match: '^nft -f -\\n[\\s\\S]*table inet mwan \\{', action: 'hang-after' }],
    ['stale rules', { tool: 'ip', match: 'rule del', action: 'hang-after' }],
    ['stale routes', { tool: 'ip', match: 'route del', action: 'hang-after' }],
    ['conntrack', { tool: 'conntrack', match: '^conntrack -D', action: 'hang' }],
  ];

  /** Starts B with the fault, waits for it, kills mwan and the stand-in tool; returns the journal's step. */
  async function killAt(fault: Fault, name: string): Promise<string | undefined> {
    const state = faultState(lab, `kill-${name.replace(' ', '-')}`);
    const run = startMwan(lab, ['--config', B, 'apply'], faults.env(fault, state));
    let tool: number | undefined;
    try {
      tool = await reached(state);
      run.child.kill('SIGKILL');
      expect((await run.result).signal).toBe('SIGKILL');
    } finally {
      run.child.kill('SIGKILL');
      killIfAlive(tool);
    }
    const journal = runDirFiles(lab)['journal.json'];
    return journal === null ? undefined : (JSON.parse(journal) as { step: string }).step;
  }

  // The repair alternates between apply and down from one point to the next: both are shown
  // at early and late points without doubling the runtime.
  it.each(points.map(([step, fault], i) => [step, i % 2 === 0 ? 'apply' : 'down', fault] as const))('during "%s", then %s repairs it exactly', async (step, repair, fault) => {
    await underA();
    expect(await killAt(fault, step)).toBe(step);
    expect(runDirFiles(lab).lock).not.toBeNull();
    if (repair === 'apply') {
      const run = await lab.mwanOk(['--config', B, 'apply']);
      expect(run.stderr).toContain(`stopped during "${step}"; repaired from the kernel's state`);
      expect(await snapshot()).toEqual(SB);
      expect(runDirFiles(lab)).toMatchObject({ 'journal.json': null, lock: null });
    } else {
      await lab.mwanOk(['down']);
      expect(await snapshot()).toEqual(S0);
      expect(runDirFiles(lab)).toEqual({ 'state.json': null, 'journal.json': null, 'confirm.json': null, lock: null });
    }
  });

  it.each([300, 450, 600])('after %i ms, wherever that is', async (ms) => {
    await underA();
    const run = startMwan(lab, ['--config', B, 'apply']);
    await new Promise((resolve) => setTimeout(resolve, ms));
    run.child.kill('SIGKILL');
    await run.result;
    // Alternate the repair: apply for some, down for the others.
    if (ms !== 450) {
      await lab.mwanOk(['--config', B, 'apply']);
      expect(await snapshot()).toEqual(SB);
    } else {
      await lab.mwanOk(['down']);
      expect(await snapshot()).toEqual(S0);
    }
    expect(runDirFiles(lab)).toMatchObject({ 'journal.json': null, lock: null });
  });
});
