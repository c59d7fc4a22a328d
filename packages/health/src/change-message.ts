import type { LinkChange } from './monitor.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One log line per change: `link isp2 down after 3 failed probes (last: timeout)`. */
export function changeMessage(change: Pick<LinkChange, 'link' | 'reason'>): string {
  const { link, reason } = change;
  switch (reason.kind) {
    case 'failures':
      return `link ${link} down after ${plural(reason.count, 'failed probe')}${reason.of ? ` of the last ${reason.of}` : ''} (last: ${reason.lastError})`;
    case 'probation':
      return `link ${link} down again: ${plural(reason.count, 'failed probe')} in its first ${reason.rounds} since it came back (last: ${reason.lastError})`;
    case 'loss':
      return `link ${link} down: ${reason.lossPercent}% of the last probes lost (maxLoss ${reason.maxLoss}%)`;
    case 'successes':
      return `link ${link} up after ${plural(reason.count, 'successful probe')} (rtt ${reason.rttMs} ms)`;
  }
}

export const listOf = (names: readonly string[]) => (names.length ? names.join(', ') : 'none');
