import { commandLine } from './runner.js';
import type { SpawnEnd, Spawned, SpawnListener, Spawner } from './spawner.js';

/** One command a FakeSpawner started: a test prints its lines and ends it. */
export class FakeProcess implements Spawned {
  readonly pid: number;
  killed = false;
  ended = false;
  /** What was written to its stdin, in order. */
  readonly written: string[] = [];

  constructor(readonly file: string, readonly args: readonly string[], private readonly listener: SpawnListener, pid: number) {
    this.pid = pid;
  }

  get line(): string {
    return commandLine(this.file, this.args);
  }

  print(...lines: string[]): void {
    for (const text of lines) if (!this.ended) this.listener.line('stdout', text);
  }

  printError(...lines: string[]): void {
    for (const text of lines) if (!this.ended) this.listener.line('stderr', text);
  }

  exit(end: SpawnEnd = { exitCode: 0 }): void {
    if (this.ended) return;
    this.ended = true;
    this.listener.exit(end);
  }

  write(text: string): boolean {
    if (this.ended) return false;
    this.written.push(text);
    return true;
  }

  /** As for real, the end comes a little later, not inside kill(). */
  kill(): void {
    this.killed = true;
    queueMicrotask(() => this.exit({ signal: 'SIGTERM' }));
  }
}

/** A Spawner for tests: records what is started and lets the test script each process. */
export class FakeSpawner implements Spawner {
  readonly processes: FakeProcess[] = [];

  spawn(file: string, args: readonly string[], listener: SpawnListener): Spawned {
    const process = new FakeProcess(file, args, listener, 1000 + this.processes.length);
    this.processes.push(process);
    return process;
  }

  /** The processes not ended yet. */
  get running(): FakeProcess[] {
    return this.processes.filter((p) => !p.ended);
  }
}
