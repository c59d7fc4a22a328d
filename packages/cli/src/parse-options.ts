import { InvalidArgumentError } from 'commander';

/** `--wait SECONDS`: a non-negative number, fractions allowed. */
export function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 86400) {
    throw new InvalidArgumentError('expected a number of seconds from 0 to 86400');
  }
  return seconds;
}

export const DEFAULT_WAIT_SECONDS = 10;

/** `--confirm SECONDS`: a window of at least a second, so there is time to confirm at all. */
export function parseConfirmSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 1 || seconds > 86400) {
    throw new InvalidArgumentError('expected a number of seconds from 1 to 86400');
  }
  return seconds;
}
