import { rm, writeFile } from 'node:fs/promises';
import { NFT_FAMILY, NFT_TABLE, runtimeError } from '@mwan/core';
import type { Spawned, Spawner } from './spawner.js';

/** What loads a ruleset as one transaction: `nft -f` (NftTable) or a running `nft -i` (NftSession). */
export interface NftLoader {
  /** undefined when loaded; nft's words when it refused the ruleset (then nothing changed). */
  tryLoad(text: string): Promise<string | undefined>;
  /** mwan's table as nft lists it, or null when it does not exist. */
  current(): Promise<string | null>;
}

/** How long a load may take before the session is given up (and started again for the next one). */
export const NFT_SESSION_TIMEOUT_MS = 10_000;

interface Pending {
  marker: string;
  /** What nft printed on stderr before the marker's error. */
  lines: string[];
  /** A listing asked for: what came on stdout so far. */
  listing?: string[];
  /** stderr said all it had to (the marker came); a listing may still be on its way on stdout. */
  said?: string;
  resolve(answer: Answer): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** nft's words before the marker, and for a listing what it printed. */
interface Answer {
  said: string;
  listing?: string;
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
    return this.queued(async () => {
      await writeFile(this.scriptPath, text, { mode: 0o600 });
      try {
        const { said } = await this.ask(`include "${this.scriptPath}"`, 'load', false);
        return /\bError\b/.test(said) ? said : undefined;
      } finally {
        await rm(this.scriptPath, { force: true });
      }
    });
  }

  /**
   * `list table inet mwan` in the same process: what `nft list table` prints, without starting
   * one. The listing comes on stdout, and ends with the table's closing brace; the marker after
   * it, on stderr, may come first.
   */
  current(): Promise<string | null> {
    return this.queued(async () => {
      const { said, listing } = await this.ask(`list table ${NFT_FAMILY} ${NFT_TABLE}`, 'list', true);
      if (/No such file or directory/.test(said)) return null;
      if (/\bError\b/.test(said)) throw runtimeError(`nft list table ${NFT_FAMILY} ${NFT_TABLE} failed: ${said}`);
      return listing ?? '';
    });
  }

  /** Ends the process; a load after this fails. */
  close(): void {
    this.closed = true;
    this.process?.kill();
  }

  private queued<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw runtimeError('nft -i: the session is closed');
      return work();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One command and the marker after it; `what` names it in the messages of a session that failed. */
  private ask(command: string, what: 'load' | 'list', listing: boolean): Promise<Answer> {
    if (this.closed) return Promise.reject(runtimeError('nft -i: the session is closed'));
    return new Promise<Answer>((resolve, reject) => {
      const process = this.process ?? this.start();
      const marker = `list set ${NFT_FAMILY} ${NFT_TABLE} mwan-loaded-${++this.loads}`;
      const unknown = what === 'load' ? 'whether the table was loaded is not known' : 'no listing';
      const timer = setTimeout(() => {
        this.failPending(`nft -i gave no answer within ${this.timeoutMs} ms: ${unknown}`);
        // What it still says or how it ends is no longer heard: the next request starts another.
        if (this.process === process) this.process = undefined;
        process.kill();
      }, this.timeoutMs);
      this.pending = { marker, lines: [], ...(listing ? { listing: [] } : {}), resolve, reject, timer };
      if (!process.write(`${command}\n${marker}\n`)) this.failPending(`nft -i takes no input: ${what === 'load' ? 'nothing was loaded' : 'no listing'}`);
    });
  }

  private start(): Spawned {
    this.caretDue = false;
    const process = this.spawner.spawn('nft', ['-i'], {
      // Errors, the marker's among them, come on stderr; stdout has the listings asked for, and
      // its order against stderr is not kept across the two pipes.
      line: (stream, text) => {
        if (this.process !== process) return;
        if (stream === 'stderr') this.heard(text);
        else this.listed(text);
      },
      exit: (end) => {
        if (this.process !== process) return;
        this.process = undefined;
        const how = end.exitCode !== undefined ? `exit ${end.exitCode}` : end.signal ?? end.error ?? 'ended';
        this.failPending(`nft -i ended (${how}) during a ${this.pending?.listing ? 'listing' : 'load: whether the table was loaded is not known'}`);
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
    if (!pending || pending.said !== undefined) return;
    if (text !== pending.marker) {
      pending.lines.push(text);
      return;
    }
    // The marker's own error ("Error: No such file or directory") is the line before its echo.
    const lines = pending.lines.at(-1)?.startsWith('Error') ? pending.lines.slice(0, -1) : pending.lines;
    pending.said = lines.join('\n').trimEnd();
    this.caretDue = true;
    this.answer();
  }

  /** A line on stdout: part of the listing asked for, if one is (from its first line to its closing brace). */
  private listed(text: string): void {
    const pending = this.pending;
    if (!pending?.listing || pending.listing.at(-1) === '}') return;
    if (!pending.listing.length && text !== `table ${NFT_FAMILY} ${NFT_TABLE} {`) return;
    pending.listing.push(text);
    this.answer();
  }

  /**
   * Settles the request once everything is in: stderr's words, and for a listing of a table
   * that exists (no error) its last line, the table's own closing brace.
   */
  private answer(): void {
    const pending = this.pending;
    if (!pending || pending.said === undefined) return;
    const listing = pending.listing;
    if (listing && !/\bError\b/.test(pending.said) && listing.at(-1) !== '}') return;
    this.settle();
    pending.resolve({ said: pending.said, ...(listing ? { listing: listing.join('\n') } : {}) });
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
