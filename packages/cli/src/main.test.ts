import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { container as rootContainer } from 'tsyringe';
import { wire } from './container.js';
import { FakeKernel, RecordingRunner, RUNNER, SYSCTLS } from '@mwan/iproute2';
import { main } from './main.js';

const tmp = mkdtempSync(join(tmpdir(), 'mwan-main-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const config = join(tmp, 'mwan.json');
writeFileSync(config, JSON.stringify({ lan: ['eth0'], links: [{ name: 'isp1', interface: 'eth1', gateway: '10.37.1.1' }] }));

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const kernel = new FakeKernel();
  const container = wire(rootContainer.createChildContainer());
  container.register(RUNNER, { useValue: new RecordingRunner(kernel.respond) });
  container.register(SYSCTLS, { useValue: kernel });
  let out = '';
  let err = '';
  const code = await main(argv, { container, env, io: { out: (t) => { out += t; }, err: (t) => { err += t; } } });
  return { code, out, err, kernel };
}

describe('main', () => {
  it('returns 0 and sets process.exitCode on success', async () => {
    process.exitCode = 5;
    const result = await run(['render', '--config', config, '--run-dir', join(tmp, 'r1')]);
    expect(result.code).toBe(0);
    expect(process.exitCode).toBe(0);
    expect(result.out).toMatch(/^table inet mwan\n/);
  });

  it('prints help and the version with exit 0', async () => {
    const help = await run(['apply', '--help']);
    expect(help.code).toBe(0);
    for (const option of ['--strategy', '--dry-run', '--keep-connections', '--wait', '--config', '--run-dir']) expect(help.out).toContain(option);
    const version = await run(['--version']);
    expect(version).toMatchObject({ code: 0, out: `${(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n` });
  });

  it('exits 2 on usage errors: no command, unknown command or option, bad value', async () => {
    for (const argv of [[], ['launch'], ['apply', '--force'], ['down', '--wait', 'soon']]) {
      const result = await run(argv);
      expect({ argv, code: result.code }).toEqual({ argv, code: 2 });
      expect(result.err).not.toBe('');
    }
  });

  it('exits 2 with one line per problem for a bad config, and changes nothing', async () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ lan: ['eth0'], links: [{ name: 'ISP', interface: 'eth1', weight: 2000 }] }));
    const result = await run(['apply', '--config', bad, '--run-dir', join(tmp, 'r2')]);
    expect(result.code).toBe(2);
    expect(result.err.trimEnd().split('\n')).toEqual([
      'mwan: links[0].name: "ISP" is not a link name (a-z, 0-9, _ and -, at most 15)',
      'mwan: links[0].weight: 2000 is not a whole number from 1 to 1000',
    ]);
    expect(result.kernel.table).toBeNull();
  });

  it('exits 1 on a runtime failure', async () => {
    const result = await run(['apply', '--config', config, '--run-dir', join(tmp, 'r3'), '--strategy', 'round-robin']);
    expect(result.code).toBe(0);
    const second = await run(['status', '--run-dir', '/proc/version']);
    expect(second.code).toBe(1);
    expect(second.err).toMatch(/^mwan: cannot read \/proc\/version\/state.json/);
  });

  it('takes the run dir from MWAN_RUN_DIR unless --run-dir is given', async () => {
    const fromEnv = join(tmp, 'env-run');
    expect((await run(['apply', '--config', config], { MWAN_RUN_DIR: fromEnv })).code).toBe(0);
    expect(existsSync(join(fromEnv, 'state.json'))).toBe(true);
    const fromOption = join(tmp, 'option-run');
    expect((await run(['apply', '--config', config, '--run-dir', fromOption], { MWAN_RUN_DIR: fromEnv })).code).toBe(0);
    expect(existsSync(join(fromOption, 'state.json'))).toBe(true);
  });
});
