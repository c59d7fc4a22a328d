import type { FailoverEvent } from '@mwan/health';

export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/**
 * One event, one line. `text` is the line people read (unchanged from before there were
 * formats); `json` is one object a line: `time`, `event` (`message` for a plain note), `message`
 * (the text line), and the event's fields.
 */
export function formatLogLine(format: LogFormat, line: string, event: FailoverEvent | { event: string; [field: string]: unknown } | undefined, now: Date): string {
  if (format === 'text') return `${line}\n`;
  const { event: name, ...fields } = event ?? { event: 'message' };
  return `${JSON.stringify({ time: now.toISOString(), event: name, message: line, ...fields })}\n`;
}
