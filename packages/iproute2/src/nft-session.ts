import { rm, writeFile } from 'node:fs/promises';
import { NFT_FAMILY, NFT_TABLE, runtimeError } from '@mwan/core';
import type { Spawned, Spawner } from './spawner.js';

/** What loads a ruleset as one transaction: `nft -f` (NftTable) or a running `nft -i` (NftSession). */
export interface NftLoader {
  /** undefined when loaded; nft's words when it refused the ruleset (then nothing changed). */
  tryLoad(text: string): Promise<string | undefined>;
}

/** How long a load may take before the session is given up (and started again for the next one). */
export const NFT_SESSION_TIMEOUT_MS = 10_000;

interface Pending {
  marker: string;
  lines: string[];
  resolve(said: string | undefined): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One `nft -i` kept running by the daemon, to load its table without starting a process: a load
 * is `include "FILE"`, one transaction as with `nft -f`, and costs a few milliseconds instead of
 * a fork of the daemon, nft's start and, as `nft -f` ends, the kernel's wait for the old table to
 * be freed. Each load is followed by a read of a set that does not exist, whose error names a
 * number of its own: everything nft printed before that error is what it said about the load.
 * The process is started at the first load and again after it ends; with the daemon gone, its
 * stdin ends and so does it.
 */
export class NftSession implements NftLoader {
  private process?: Spawned;
  private pending?: Pending;
  private loads = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The caret line under the last marker's echo may come after it. */
  private caretDue = false;

  /** `scriptPath`: where each ruleset is written for `include`, removed once loaded (mode 0600). */
  constructor(private readonly spawner: Spawner, private readonly scriptPath: string, private readonly timeoutMs = NFT_SESSION_TIMEOUT_MS) {
    // nft expands wildcards in an include, and a pattern that matches nothing is no error.
    if (!/^\/[^"\n\\*?[\]]*$/.test(scriptPath)) throw runtimeError(`cannot load through nft -i from ${JSON.stringify(scriptPath)}: an absolute path without quotes, backslashes or wildcards is needed`);
  }

  /** The pid of the running `nft -i`, if one runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  tryLoad(text: string): Promise<string | undefined> {
    const load = this.queue.then(() => this.load(text));
    this.queue = load.catch(() => undefined);
    return load;
  }

  /** Ends the process; a load after this fails. */
  close(): void {
    this.closed = true;
    this.process?.kill();
  }

  private async load(text: string): Promise<string | undefined> {
    if (this.closed) throw runtimeError('nft -i: the session is closed');
    await writeFile(this.scriptPath, text, { mode: 0o600 });
    try {
      if (this.closed) throw runtimeError('nft -i: the session is closed');
      return await new Promise<string | undefined>((resolve, reject) => {
        const process = this.process ?? this.start();
        const marker = `list set ${NFT_FAMILY} ${NFT_TABLE} mwan-loaded-${++this.loads}`;
        const timer = setTimeout(() => {
          this.failPending(`nft -i gave no answer within ${this.timeoutMs} ms: whether the table was loaded is not known`);
          // What it still says or how it ends is no longer heard: the next load starts another.
          if (this.process === process) this.process = undefined;
          process.kill();
        }, this.timeoutMs);
        this.pending = { marker, lines: [], resolve, reject, timer };
        if (!process.write(`include "${this.scriptPath}"\n${marker}\n`)) this.failPending('nft -i takes no input: nothing was loaded');
      });
    } finally {
      await rm(this.scriptPath, { force: true });
    }
  }

  private start(): Spawned {
    this.caretDue = false;
    const process = this.spawner.spawn('nft', ['-i'], {
      // Errors, the marker's among them, come on stderr; stdout (a listing, a prompt) says nothing
      // about a load, and its order against stderr is not kept across the two pipes.
      line: (stream, text) => {
        if (stream === 'stderr' && this.process === process) this.heard(text);
      },
      exit: (end) => {
        if (this.process !== process) return;
        this.process = undefined;
        const how = end.exitCode !== undefined ? `exit ${end.exitCode}` : end.signal ?? end.error ?? 'ended';
        this.failPending(`nft -i ended (${how}) during a load: whether the table was loaded is not known`);
      },
    }, { input: true });
    this.process = process;
    return process;
  }

  private heard(text: string): void {
    if (this.caretDue && /^\s*\^+\s*$/.test(text)) {
      this.caretDue = false;
      return;
    }
    this.caretDue = false;
    const pending = this.pending;
    if (!pending) return;
    if (text !== pending.marker) {
      pending.lines.push(text);
      return;
    }
    // The marker's own error ("Error: No such file or directory") is the line before its echo.
    const lines = pending.lines.at(-1)?.startsWith('Error') ? pending.lines.slice(0, -1) : pending.lines;
    const said = lines.join('\n').trimEnd();
    this.caretDue = true;
    this.settle();
    pending.resolve(/\bError\b/.test(said) ? said : undefined);
  }

  private failPending(message: string): void {
    const pending = this.pending;
    if (!pending) return;
    this.settle();
    pending.reject(runtimeError(message));
  }

  private settle(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}
