import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ResultPromise } from 'execa';

/** The traffic tools are plain node scripts next to this package's sources and build. */
export const TOOLS_DIR = fileURLToPath(new URL('../tools/', import.meta.url));
export const toolPath = (name: 'server' | 'client' | 'hold' | 'load'): string => `${TOOLS_DIR}${name}.js`;

/** What the server saw of one connection or datagram. */
export interface Seen {
  kind: 'tcp' | 'udp' | 'hold';
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

export interface ConnectResult {
  ok: boolean;
  /** The source address asked for. */
  src: string;
  /** The client socket's own address and port. */
  local?: { address: string; port: number };
  seen?: Seen;
  error?: string;
  ms: number;
}

export interface LoadReport {
  started: number;
  completed: number;
  failed: number;
  /** Requests that took longer than the stall threshold (completed or not). */
  stalled: number;
  errors: Record<string, number>;
  elapsedMs: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  /** Completed requests per second of the run. */
  perSecond: number[];
  /** When the run started (wall clock, ms since the epoch): second i of perSecond starts i s after it. */
  begin: number;
}

/** Long-running tools stream their output (no buffering) and are read line by line. */
export const STREAMING = { buffer: false, stdin: 'pipe', reject: false } as const;
type Subprocess = ResultPromise<typeof STREAMING>;

/** Lines of a child's stdout as they arrive, with a way to wait for the next matching one. */
class LineReader {
  private readonly lines: string[] = [];
  private readonly waiters: Array<() => void> = [];
  private ended = false;

  constructor(stream: NodeJS.ReadableStream) {
    createInterface({ input: stream })
      .on('line', (line) => {
        this.lines.push(line);
        this.wake();
      })
      .on('close', () => {
        this.ended = true;
        this.wake();
      });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** All lines so far (the reader keeps them). */
  all(): readonly string[] {
    return this.lines;
  }

  /** Removes and returns the next line, waiting up to `timeoutMs`. */
  async next(timeoutMs: number, what: string): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) throw new Error(`${what}: the process ended`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${what}: no answer within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.lines.shift() as string;
  }

  /** Waits until `predicate` holds for the lines read so far. */
  async until(predicate: (lines: readonly string[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!predicate(this.lines)) {
      if (this.ended) throw new Error(`${what}: the process ended`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** The last few kB of a child's stderr, for error messages. */
function stderrTail(child: Subprocess): () => string {
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4096);
  });
  return () => tail.trim();
}

/** A running `server.js`: its records are what it saw, in arrival order. */
export class TrafficServer {
  private readonly reader: LineReader;
  private readonly stderr: () => string;
  private readonly parsed: Seen[] = [];
  private parsedLines = 0;
  /** Records before the last `clear()`. */
  private skip = 0;

  constructor(
    private readonly child: Subprocess,
    readonly addresses: readonly string[],
    /** TCP answer-and-close and UDP port; the long-lived TCP port is `port + 1`. */
    readonly port: number,
  ) {
    this.reader = new LineReader(child.stdout);
    this.stderr = stderrTail(child);
  }

  async ready(timeoutMs = 10_000): Promise<void> {
    try {
      await this.reader.until((lines) => lines.some((l) => l.includes('"ready"')), timeoutMs, 'traffic server');
    } catch (error) {
      throw new Error(`${(error as Error).message}${this.stderr() ? `: ${this.stderr()}` : ''}`, { cause: error });
    }
  }

  /** Records since the last `clear()`. */
  records(): Seen[] {
    // Lines are parsed once, as they are first asked for: waiting for thousands stays linear.
    const lines = this.reader.all();
    for (; this.parsedLines < lines.length; this.parsedLines++) {
      const record = JSON.parse(lines[this.parsedLines]) as Seen | { ready: true };
      if ('kind' in record) this.parsed.push(record);
    }
    return this.parsed.slice(this.skip);
  }

  clear(): void {
    this.records();
    this.skip = this.parsed.length;
  }

  /** Waits until at least `count` records (of `kind`, if given) arrived since the last clear. */
  async waitFor(count: number, kind?: Seen['kind'], timeoutMs = 10_000): Promise<Seen[]> {
    const matching = () => this.records().filter((r) => !kind || r.kind === kind);
    await this.reader.until(() => matching().length >= count, timeoutMs, `waiting for ${count} ${kind ?? ''} server records`);
    return matching();
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/** A long-lived TCP connection from a LAN address, driven by `hold.js`. */
export class LongLivedConnection {
  private readonly reader: LineReader;

  /** What the server saw when the connection opened. */
  seen!: Seen;
  local!: { address: string; port: number };

  constructor(private readonly child: Subprocess) {
    this.reader = new LineReader(child.stdout);
  }

  async opened(timeoutMs = 5000): Promise<this> {
    const line = JSON.parse(await this.reader.next(timeoutMs, 'long-lived connection')) as { open?: Seen; local: LongLivedConnection['local']; error?: string };
    if (!line.open) throw new Error(`long-lived connection did not open: ${JSON.stringify(line)}`);
    this.seen = line.open;
    this.local = line.local;
    return this;
  }

  /** One round trip over the same connection: what the server sees now. */
  async ping(timeoutMs = 3000): Promise<Seen> {
    this.child.stdin.write('ping\n');
    const line = JSON.parse(await this.reader.next(timeoutMs, 'long-lived ping')) as { reply?: Seen; error?: string; closed?: boolean };
    if (!line.reply) throw new Error(`long-lived connection broke: ${JSON.stringify(line)}`);
    return line.reply;
  }

  close(): void {
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
  }
}
