import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import type { SpawnEnd, Spawned, SpawnListener, Spawner } from './spawner.js';

export class ExecaSpawner implements Spawner {
  spawn(file: string, args: readonly string[], listener: SpawnListener): Spawned {
    let child;
    try {
      // stdin is /dev/null: nothing is written to it, and a pipe there would tie nothing to the
      // daemon's life. Its stdout is what does: once the daemon is gone, the command's next line
      // breaks the pipe and SIGPIPE ends it.
      child = execa(file, args, { buffer: false, reject: false, stdin: 'ignore', env: { LC_ALL: 'C' } });
    } catch (error) {
      queueMicrotask(() => listener.exit({ error: (error as Error).message }));
      return { pid: undefined, kill: () => {} };
    }
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
    };
  }
}
