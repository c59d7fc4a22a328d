import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import type { SpawnEnd, Spawned, SpawnListener, SpawnOptions, Spawner } from './spawner.js';

export class ExecaSpawner implements Spawner {
  spawn(file: string, args: readonly string[], listener: SpawnListener, options: SpawnOptions = {}): Spawned {
    let child;
    try {
      // Without input, stdin is /dev/null: a pipe nobody writes to would tie nothing to the
      // daemon's life. Its stdout is what does: once the daemon is gone, the command's next line
      // breaks the pipe and SIGPIPE ends it. With input, the end of stdin does.
      child = execa(file, args, { buffer: false, reject: false, stdin: options.input ? 'pipe' : 'ignore', env: { LC_ALL: 'C' } });
    } catch (error) {
      queueMicrotask(() => listener.exit({ error: (error as Error).message }));
      return { pid: undefined, kill: () => {}, write: () => false };
    }
    // A write after the command ended is lost, not an error: its exit is heard all the same.
    child.stdin?.on('error', () => {});
    const lines = (stream: Readable, name: 'stdout' | 'stderr') => new Promise<void>((resolve) => {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (text) => listener.line(name, text)).on('close', resolve);
    });
    // The end is told after the last line, so a message printed just before exiting is heard first.
    void Promise.all([child, lines(child.stdout, 'stdout'), lines(child.stderr, 'stderr')]).then(([result]) => {
      const end: SpawnEnd = typeof result.exitCode === 'number' ? { exitCode: result.exitCode }
        : result.signal ? { signal: result.signal }
        : { error: (result.cause instanceof Error ? result.cause.message : undefined) ?? result.shortMessage ?? `${file} failed` };
      listener.exit(end);
    });
    const running = child;
    return {
      pid: running.pid,
      kill: () => {
        running.kill();
      },
      write: (text) => (running.stdin && !running.stdin.destroyed && running.stdin.writable ? (running.stdin.write(text), true) : false),
    };
  }
}
