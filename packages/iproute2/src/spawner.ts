import type { InjectionToken } from 'tsyringe';

/** How a long-running command ended: its exit code, the signal that ended it, or why it never ran. */
export interface SpawnEnd {
  exitCode?: number;
  signal?: string;
  /** It could not start (`spawn ping ENOENT`). */
  error?: string;
}

/** What a long-running command prints, line by line as it comes, and its end after its last line. */
export interface SpawnListener {
  /** One line of its stdout or stderr, without the newline. */
  line(stream: 'stdout' | 'stderr', text: string): void;
  exit(end: SpawnEnd): void;
}

/** A running command: it ends on its own or when killed; either way `exit` is heard once. */
export interface Spawned {
  readonly pid: number | undefined;
  kill(): void;
  /** Sends text to its stdin (started with `input`); false once it can take no more. */
  write(text: string): boolean;
}

export interface SpawnOptions {
  /**
   * Its stdin is a pipe the caller writes to (`nft -i`); otherwise /dev/null. Either way the
   * command is tied to the daemon's life: its stdin ends with the daemon, or its next line breaks
   * its stdout pipe.
   */
  input?: boolean;
}

/**
 * The door for commands that keep running and stream what they print (one `ping` per link and
 * target): Runner's counterpart, an argument array and no shell.
 */
export interface Spawner {
  spawn(file: string, args: readonly string[], listener: SpawnListener, options?: SpawnOptions): Spawned;
}

export const SPAWNER: InjectionToken<Spawner> = Symbol.for('mwan.Spawner');
