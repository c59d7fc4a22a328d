import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { execa } from 'execa';

export interface MachineFacts {
  date: string;
  host: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  loadAverage: number[];
  versions: Record<string, string>;
  commit: string;
}

/** First line a tool prints about its version, from stdout or stderr; "missing" if it cannot run. */
async function version(cmd: string, args: readonly string[]): Promise<string> {
  const result = await execa(cmd, args, { reject: false, timeout: 5000 });
  const out = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.split('\n').map((l) => l.trim()).find(Boolean);
  return result.failed && result.exitCode === undefined ? 'missing' : (out ?? 'unknown');
}

export async function machineFacts(repo: string): Promise<MachineFacts> {
  const [kernel, commit, dirty] = await Promise.all([
    execa('uname', ['-r']).then((r) => r.stdout.trim()),
    execa('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { reject: false }).then((r) => r.stdout.trim() || 'unknown'),
    execa('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no'], { reject: false }).then((r) => r.stdout.trim() !== ''),
  ]);
  const tools: Array<[string, string, string[]]> = [
    ['nft', 'nft', ['--version']],
    ['iproute2', 'ip', ['-V']],
    ['iptables-legacy', 'iptables-legacy', ['--version']],
    ['iperf3', 'iperf3', ['--version']],
    ['nginx', 'nginx', ['-v']],
    ['wrk', 'wrk', ['--version']],
    ['conntrack', 'conntrack', ['--version']],
  ];
  const versions: Record<string, string> = { node: process.version };
  for (const [name, cmd, args] of tools) versions[name] = await version(cmd, args);
  return {
    date: new Date().toISOString(),
    host: hostname(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    versions,
    commit: `${commit}${dirty ? ' (the work tree had uncommitted changes)' : ''}`,
  };
}
