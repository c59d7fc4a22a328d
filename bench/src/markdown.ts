/** Markdown pieces for RESULTS.md. */
import { pairedRatios, summarize } from './stats.js';

export type Cell = string | number;

/** Three significant digits, no exponent: enough for numbers this noisy. */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}

export const ratio = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');

export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const line = (cells: readonly Cell[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(headers), `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** A literal block for commands. */
export const code = (lines: readonly string[]): string => ['```', ...lines, '```'].join('\n');

/** A median with its range: `412 (380–430)`. */
export const spread = (values: readonly number[]): string => {
  const s = summarize(values);
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
};

/** A paired ratio's median with its interquartile range: how far one round's ratio can be trusted. */
export function pairedCell(candidate: readonly number[], baseline: readonly number[]): string {
  const s = summarize(pairedRatios(candidate, baseline));
  return `${ratio(s.median)} [${s.q1.toFixed(2)}–${s.q3.toFixed(2)}]`;
}
