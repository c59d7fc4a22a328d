/**
 * Golden cases: each directory of test/cases holds a config, optional command lines and a
 * starting kernel, and the expected nft text, transcript and exit code. The commands run through
 * the CLI's main() against a FakeKernel behind a RecordingRunner, so every side effect shows in
 * expected.ip. UPDATE_GOLDEN=1 rewrites the expected files (review the diff before committing).
 */
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { container as rootContainer } from 'tsyringe';
import { wire } from '@mwan/cli';
import { main } from '@mwan/cli';
import { FakeKernel, RecordingRunner, RUNNER, SYSCTLS, type FakeKernelOptions } from '@mwan/iproute2';

const CASES = fileURLToPath(new URL('../cases/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const NFT_INPUT = /^\[call\] nft (?:-c )?-f - <<EOF\n([\s\S]*?)^EOF$/gm;
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;

interface CaseResult {
  nft?: string;
  transcript: string;
  exitCode: number;
}

/** Each line of `args` is one invocation; `./x` names a file of the case. Default: one `apply`. */
function invocations(dir: string): string[][] {
  const file = join(dir, 'args');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : ['apply'];
  return lines.map((line) => line.split(/\s+/).map((arg) => (arg.startsWith('./') ? join(dir, arg.slice(2)) : arg)));
}

async function runCase(dir: string): Promise<CaseResult> {
  const kernelFile = join(dir, 'kernel.json');
  const kernel = new FakeKernel(existsSync(kernelFile) ? (JSON.parse(readFileSync(kernelFile, 'utf8')) as FakeKernelOptions) : {});
  const runner = new RecordingRunner(kernel.respond);
  kernel.recorder = runner;
  const container = wire(rootContainer.createChildContainer());
  container.register(RUNNER, { useValue: runner });
  container.register(SYSCTLS, { useValue: kernel });
  const runDir = mkdtempSync(join(tmpdir(), 'mwan-case-'));
  let exitCode = 0;
  try {
    for (const argv of invocations(dir)) {
      const args = argv.includes('--config') ? argv : [...argv, '--config', join(dir, 'config.json')];
      runner.note(`$ mwan ${args.join(' ')}`);
      const io = { out: (t: string) => noteLines(runner, 'stdout', t), err: (t: string) => noteLines(runner, 'stderr', t) };
      exitCode = await main([...args, '--run-dir', runDir], { container, io, env: {} });
      runner.note(`[exit] ${exitCode}`);
    }
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
  const transcript = runner.transcript.split(dir).join('<case>').split(runDir).join('<run>').replace(ISO_TIME, '<time>');
  // The rendered table is what the last `nft -c` checked; later loads may be rollbacks.
  const nft = [...transcript.matchAll(NFT_INPUT)].filter((m) => m[0].startsWith('[call] nft -c ')).map((m) => m[1]).at(-1);
  return { nft, transcript: shortenInputs(transcript, nft), exitCode };
}

/** The loaded table is in expected.nft, and an input repeated (check, then load) is shown once. */
function shortenInputs(transcript: string, nft: string | undefined): string {
  const seen = new Set<string>();
  return transcript.replace(NFT_INPUT, (whole, input: string) => {
    if (input === nft) return whole.replace(`<<EOF\n${input}EOF`, '<<EOF (expected.nft)');
    if (seen.has(input)) return whole.replace(`<<EOF\n${input}EOF`, '<<EOF (same input as above)');
    seen.add(input);
    return whole;
  });
}

function noteLines(runner: RecordingRunner, stream: string, text: string) {
  for (const line of text.replace(/\n$/, '').split('\n')) runner.note(`[${stream}] ${line}`);
}

/** A readable diff for a failed comparison: the first differing lines with context. */
function diff(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length) && out.length < 40; i++) {
    if (a[i] === b[i]) continue;
    if (a[i] !== undefined) out.push(`${i + 1}- ${a[i]}`);
    if (b[i] !== undefined) out.push(`${i + 1}+ ${b[i]}`);
  }
  return out.join('\n');
}

function compare(dir: string, file: string, actual: string | undefined) {
  const path = join(dir, file);
  if (UPDATE) {
    if (actual === undefined) rmSync(path, { force: true });
    else writeFileSync(path, actual);
    return;
  }
  const expected = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (expected !== actual) {
    throw new Error(`${file} differs (run with UPDATE_GOLDEN=1 to rewrite, then review):\n${diff(expected ?? '(no file)', actual ?? '(no output)')}`);
  }
}

const cases = readdirSync(CASES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

describe('golden cases', () => {
  it('exist', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  describe.each(cases)('%s', (name) => {
    const dir = join(CASES, name);

    it('matches expected.nft, expected.ip and expected.exitcode', async () => {
      const result = await runCase(dir);
      compare(dir, 'expected.nft', result.nft);
      compare(dir, 'expected.ip', result.transcript);
      compare(dir, 'expected.exitcode', `${result.exitCode}\n`);
    });

    const file = join(dir, 'expected.nft');
    if (existsSync(file)) {
      it('has an expected.nft that nft -c accepts', async () => {
        const result = await execa('unshare', ['-rn', 'nft', '-c', '-f', file], { reject: false });
        expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
      });
    }
  });
});
