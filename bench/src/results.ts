import type { MachineFacts } from './machine.js';
import { code, table } from './markdown.js';
import type { Section, Verdict } from './report.js';

export interface RunInfo {
  command: string;
  quick: boolean;
  rounds: number;
  seconds: number;
  machine: MachineFacts;
  /** Load average when the run ended (the machine is shared). */
  loadAfter: number[];
}

const metText = (met: Verdict): string => (met === undefined ? '—' : met === 'inconclusive' ? '**inconclusive**' : met ? '**met**' : '**not met**');

const anchor = (title: string): string => title.toLowerCase().replace(/[^a-z0-9 -]/g, '').trim().replace(/ +/g, '-');

/** RESULTS.md: machine and run facts, the targets at a glance, then one part per benchmark. */
export function resultsMarkdown(run: RunInfo, sections: readonly Section[], notes: readonly string[], plotsDir: string): string {
  const m = run.machine;
  const parts: string[] = [
    '# mwan benchmark results',
    `Written by \`${run.command}\` on ${m.date.slice(0, 10)} (${m.date}); the whole run took ${Math.round(run.seconds)} s` +
      `${run.quick ? ' (quick mode: tiny runs, the numbers only show that every benchmark works)' : ''}. ` +
      `${run.rounds} paired rounds per comparison; medians throughout. See [README.md](README.md) for how to read the ratios.` +
      `${sections.some((s) => s.from) ? ' Sections that name another run were kept from it (`--merge`); the machine facts below are this run\'s.' : ''}`,
    '## Machine',
    table(['fact', 'value'], [
      ['CPU', `${m.cpu}, ${m.cores} cores`],
      ['memory', `${m.memoryGiB} GiB`],
      ['kernel', m.kernel],
      ['load average (1, 5, 15 min) at start / end', `${m.loadAverage.join(', ')} / ${run.loadAfter.join(', ')}`],
      ['mwan commit', m.commit],
      ...Object.entries(m.versions).map(([k, v]) => [k, v]),
    ]),
    'The machine is shared and noisy (other network-namespace tests run at the same time): every comparison is paired, with ' +
      'the setups interleaved in rotated order within each round, and the ratios are medians of per-round ratios.',
    '## Targets',
    table(['target', 'goal', 'measured', ''], sections.flatMap((s) => s.targets.map((t) => [t.what, t.goal, t.measured, metText(t.met)]))),
    'Judged on medians. A rate measured two ways (all setups at once, and one at a time) is **inconclusive** when the two ' +
      'disagree about the target: the noise is then larger than the margin. `—`: a baseline, or not applicable to this run.',
  ];
  if (notes.length) parts.push('## Findings', ...notes);
  for (const s of sections) {
    parts.push(`## ${s.title}`, s.measures);
    if (s.seconds !== undefined) parts.push(`(${Math.round(s.seconds)} s${s.from ? `, in the run of ${s.from}` : ''})`);
    parts.push(...s.body);
    for (const p of s.plots) parts.push(`![${p.title}](${plotsDir}/${p.file})`);
    if (s.commands.length) parts.push('Commands:', code(s.commands));
  }
  parts.push('## Contents', sections.map((s) => `- [${s.title}](#${anchor(s.title)})`).join('\n'));
  return `${parts.join('\n\n')}\n`;
}
