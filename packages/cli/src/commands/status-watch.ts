import { InvalidArgumentError } from 'commander';
import { errorMessage } from '@mwan/core';
import { processIo, type CliContext, type GlobalOptions } from '../context.js';
import { formatLiveView, liveFrame, type LiveSample } from '../live/live-view.js';
import type { CarryState } from '../metrics/counter-carry.js';
import { MetricsSource } from '../metrics/metrics-source.js';
import { readWatchHealth } from './status-health.js';

/** `--interval SECONDS` of the live view: from 0.2 s to an hour. */
export function parseInterval(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0.2 || seconds > 3600) {
    throw new InvalidArgumentError('expected a number of seconds from 0.2 to 3600');
  }
  return seconds;
}

// Alternate screen (the terminal comes back as it was), cursor home and clear, cursor off/on.
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const REDRAW = '\x1b[H\x1b[2J';

/**
 * `mwan status --watch`: reads the links about once per interval and shows what changed. On a
 * terminal it redraws one screen (q or Ctrl-C ends it); otherwise it prints the table, or one
 * JSON object with `--json`, per refresh, until SIGINT or SIGTERM. It writes no file: the carry
 * across table swaps is kept in memory for the view's own deltas.
 */
export async function statusWatch(ctx: CliContext, globals: GlobalOptions, intervalSeconds: number): Promise<void> {
  const source = ctx.container.resolve(MetricsSource);
  const tty = ctx.io === processIo && process.stdout.isTTY && !globals.json;
  let carry: CarryState = {};
  const read = async (): Promise<LiveSample> => {
    const health = await readWatchHealth(globals.runDir).catch(() => null);
    const result = await source.read({ runDir: globals.runDir, configPath: globals.config, health: health?.running ? health : null, daemon: null, carry });
    carry = result.carry;
    return { at: Date.now(), monotonicMs: performance.now(), snapshot: result.snapshot };
  };

  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onSignal = () => stop();
  const onKey = (data: Buffer) => {
    const key = data.toString();
    if (key === 'q' || key === 'Q' || key === '\x03') stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (tty && process.stdin.isTTY) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', onKey);
    process.stdin.resume();
  }
  if (tty) ctx.io.out(ENTER);
  try {
    const first = await read();
    let previous = first;
    let current = first;
    let failure: string | undefined;
    for (;;) {
      const frame = liveFrame(first, previous, current);
      if (globals.json) ctx.io.out(`${JSON.stringify(failure ? { ...frame, error: failure } : frame)}\n`);
      else {
        const lines = [...formatLiveView(frame, { keys: tty }), ...(failure ? [`error: ${failure}`] : [])];
        ctx.io.out(tty ? `${REDRAW}${lines.join('\n')}\n` : `${lines.join('\n')}\n\n`);
      }
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((resolve) => {
        timer = setTimeout(() => resolve('tick'), intervalSeconds * 1000);
      });
      const next = await Promise.race([tick, stopped.then(() => 'stop' as const)]);
      clearTimeout(timer);
      if (next === 'stop') break;
      try {
        previous = current;
        current = await read();
        failure = undefined;
      } catch (error) {
        // One failed reading (a command busy, a file being replaced) shows on its frame; the view goes on.
        failure = errorMessage(error);
        current = previous;
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (tty) ctx.io.out(LEAVE);
    if (tty && process.stdin.isTTY) {
      process.stdin.off('data', onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  }
}
