/**
 * A small SVG writer for the bench's plots: line charts (scaling) and bar charts (capacity), with
 * whiskers for the spread of the runs. No dependencies; the output is plain, diffable text.
 */

export interface Point {
  x: number;
  y: number;
  /** Whisker ends (e.g. min and max of the runs). */
  lo?: number;
  hi?: number;
}

export interface Series {
  name: string;
  points: Point[];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Equal spacing per distinct x (2, 8, 32, 64 read better that way than on a linear axis). */
  categoricalX?: boolean;
  /** A horizontal reference line, e.g. a target. */
  reference?: { y: number; label: string };
}

export interface Bar {
  label: string;
  value: number;
  lo?: number;
  hi?: number;
}

export interface BarChart {
  title: string;
  yLabel: string;
  bars: Bar[];
  reference?: { y: number; label: string };
}

const W = 640;
const H = 400;
const M = { left: 70, right: 20, top: 50, bottom: 70 };
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number): string => String(Math.round(v * 100) / 100);

function el(name: string, attrs: Record<string, string | number>, body?: string): string {
  const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v)}"`).join('');
  return body === undefined ? `<${name}${a}/>` : `<${name}${a}>${body}</${name}>`;
}

const text = (x: number, y: number, body: string, attrs: Record<string, string | number> = {}): string =>
  el('text', { x, y, 'font-family': 'sans-serif', 'font-size': 12, ...attrs }, escapeXml(body));

/** Round tick steps (1, 2, 5 × 10^k) covering [0, max]. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) as number;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

const tickLabel = (v: number): string => (Math.abs(v) >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(Number(v.toPrecision(3))));

interface Frame {
  parts: string[];
  y: (v: number) => number;
  plotW: number;
  plotH: number;
}

function frame(title: string, xLabel: string, yLabel: string, yMax: number): Frame {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const ticks = niceTicks(yMax);
  const top = ticks[ticks.length - 1];
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const parts = [
    el('rect', { x: 0, y: 0, width: W, height: H, fill: 'white' }),
    text(W / 2, 20, title, { 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold' }),
    text(M.left + plotW / 2, H - 12, xLabel, { 'text-anchor': 'middle' }),
    text(16, M.top + plotH / 2, yLabel, { 'text-anchor': 'middle', transform: `rotate(-90 16 ${num(M.top + plotH / 2)})` }),
  ];
  for (const t of ticks) {
    parts.push(el('line', { x1: M.left, x2: M.left + plotW, y1: y(t), y2: y(t), stroke: '#ddd' }));
    parts.push(text(M.left - 6, y(t) + 4, tickLabel(t), { 'text-anchor': 'end' }));
  }
  parts.push(el('line', { x1: M.left, x2: M.left, y1: M.top, y2: M.top + plotH, stroke: '#333' }));
  parts.push(el('line', { x1: M.left, x2: M.left + plotW, y1: M.top + plotH, y2: M.top + plotH, stroke: '#333' }));
  return { parts, y, plotW, plotH };
}

/** A dashed horizontal line, named in a legend entry at the top right (never over the data's labels). */
function reference(f: Frame, ref: { y: number; label: string } | undefined): string[] {
  if (!ref) return [];
  const y = f.y(ref.y);
  const right = M.left + f.plotW;
  // 11 px sans-serif averages under 6.5 px a character: the label ends at the plot's right edge.
  const start = right - ref.label.length * 6.5;
  return [
    el('line', { x1: M.left, x2: right, y1: y, y2: y, stroke: '#555', 'stroke-dasharray': '6 4' }),
    el('line', { x1: start - 30, x2: start - 6, y1: M.top - 10, y2: M.top - 10, stroke: '#555', 'stroke-dasharray': '6 4' }),
    text(start, M.top - 6, ref.label, { fill: '#555', 'font-size': 11 }),
  ];
}

const document = (parts: string[]): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n${parts.map((p) => `  ${p}`).join('\n')}\n</svg>\n`;

function whisker(x: number, lo: number, hi: number, color: string): string {
  return el('path', { d: `M${num(x - 4)} ${num(lo)}H${num(x + 4)}M${num(x)} ${num(lo)}V${num(hi)}M${num(x - 4)} ${num(hi)}H${num(x + 4)}`, stroke: color, fill: 'none' });
}

export function lineChart(chart: LineChart): string {
  const all = chart.series.flatMap((s) => s.points);
  const yMax = Math.max(...all.map((p) => p.hi ?? p.y), chart.reference?.y ?? 0) * 1.05;
  const f = frame(chart.title, chart.xLabel, chart.yLabel, yMax);
  const xs = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);
  const xMin = xs[0];
  const xMax = xs[xs.length - 1];
  const pad = 30;
  const x = (v: number) =>
    chart.categoricalX
      ? M.left + pad + (xs.length === 1 ? 0 : (xs.indexOf(v) / (xs.length - 1)) * (f.plotW - 2 * pad))
      : M.left + pad + (xMax === xMin ? 0 : ((v - xMin) / (xMax - xMin)) * (f.plotW - 2 * pad));
  const parts = [...f.parts, ...reference(f, chart.reference)];
  for (const v of xs) parts.push(text(x(v), M.top + f.plotH + 18, tickLabel(v), { 'text-anchor': 'middle' }));
  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    parts.push(el('polyline', { points: pts.map((p) => `${num(x(p.x))},${num(f.y(p.y))}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2 }));
    for (const p of pts) {
      if (p.lo !== undefined && p.hi !== undefined) parts.push(whisker(x(p.x), f.y(p.lo), f.y(p.hi), color));
      parts.push(el('circle', { cx: x(p.x), cy: f.y(p.y), r: 3.5, fill: color }));
    }
    const ly = M.top + 12 + i * 16;
    parts.push(el('rect', { x: M.left + 12, y: ly - 9, width: 12, height: 10, fill: color }));
    parts.push(text(M.left + 30, ly, s.name));
  });
  return document(parts);
}

export function barChart(chart: BarChart): string {
  const yMax = Math.max(...chart.bars.map((b) => b.hi ?? b.value), chart.reference?.y ?? 0) * 1.05;
  const f = frame(chart.title, '', chart.yLabel, yMax);
  const slot = f.plotW / Math.max(1, chart.bars.length);
  const parts = [...f.parts];
  chart.bars.forEach((b, i) => {
    const color = PALETTE[i % PALETTE.length];
    const cx = M.left + slot * (i + 0.5);
    const y = f.y(b.value);
    parts.push(el('rect', { x: cx - slot * 0.3, y, width: slot * 0.6, height: M.top + f.plotH - y, fill: color, 'fill-opacity': 0.8 }));
    if (b.lo !== undefined && b.hi !== undefined) parts.push(whisker(cx, f.y(b.lo), f.y(b.hi), '#222'));
    parts.push(text(cx, y - 6, tickLabel(b.value), { 'text-anchor': 'middle', 'font-size': 11 }));
    // Long names on neighbouring bars would run into each other: every other one a line lower.
    const stagger = b.label.length * 6 > slot - 4 && i % 2 === 1 ? 14 : 0;
    parts.push(text(cx, M.top + f.plotH + 18 + stagger, b.label, { 'text-anchor': 'middle', 'font-size': 11 }));
  });
  parts.push(...reference(f, chart.reference));
  return document(parts);
}
