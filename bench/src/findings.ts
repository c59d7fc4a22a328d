import { fmt } from './markdown.js';
import type { Section } from './report.js';

interface PerLinks {
  links: number;
  applyFreshMs: number[];
  applyReloadMs: number[];
  execsFresh?: Record<string, number>;
  execsReload?: Record<string, number>;
}

const total = (execs: Record<string, number> | undefined): number => Object.values(execs ?? {}).reduce((a, b) => a + b, 0);

/** Observations that follow from the numbers alone, written with them so they never go stale. */
export function findings(sections: Record<string, Section>): string[] {
  const notes: string[] = [];
  const scaling = sections.scaling;
  if (scaling && !('notMeasured' in (scaling.raw as object))) {
    const n = scaling.numbers;
    const node = n['node start-up ms'];
    const version = n['mwan --version ms'];
    const apply2 = n['2 links apply fresh ms'];
    if ([node, version, apply2].every(Number.isFinite)) {
      notes.push(
        `- Start-up: \`node -e 0\` takes ${fmt(node)} ms and \`mwan --version\` (node plus loading the CLI's modules) ${fmt(version)} ms ` +
          `in the router namespace, i.e. ${fmt((version / apply2) * 100)} % of a 2-link \`mwan apply\` (${fmt(apply2)} ms) is spent before the ` +
          'CLI does any work.',
      );
    }
    const perLinks = (scaling.raw as { perLinks: PerLinks[] }).perLinks;
    for (const d of [perLinks[0], perLinks[perLinks.length - 1]]) {
      if (!d?.execsFresh) continue;
      notes.push(
        `- A fresh \`mwan apply\` with ${d.links} links starts ${total(d.execsFresh)} programs ` +
          `(${Object.entries(d.execsFresh).map(([k, v]) => `${k} ${v}`).join(', ')}); a reload ${total(d.execsReload)} ` +
          `(${Object.entries(d.execsReload ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}).`,
      );
    }
  }
  const reload = sections.reload;
  if (reload && Number.isFinite(reload.numbers['seed completed ratio'])) {
    const n = reload.numbers;
    const part = (key: string, what: string) =>
      Number.isFinite(n[`${key} completed ratio`])
        ? `${what} ${fmt(n[`${key} completed ratio`])}× (${n[`${key} failed`]} failed, ${n[`${key} stalled`]} stalled, a median of ${fmt(n[`${key} reloads done`])} reloads done)`
        : undefined;
    const parts = [part('seed', 'the seed'), part('mwan', '`mwan apply`'), part('watch', '`mwan watch` on SIGHUP'), part('daemon', '`mwan apply` through the daemon')].filter(Boolean);
    notes.push(`- Reload under load, completed requests relative to the same run without reloads: ${parts.join('; ')}.`);
    const render = n['diagnostic: mwan render (no change) completed ratio'];
    const nft = n['diagnostic: nft -f of the same tables completed ratio'];
    if (Number.isFinite(render) && Number.isFinite(nft)) {
      notes.push(
        `- Of that, the table swap alone (\`nft -f\` of the same tables at the same pace) keeps ${fmt(nft)}×; starting node for ` +
          `\`mwan render\` at that pace, changing nothing, keeps ${fmt(render)}×: the cost of a CLI reload under load is the process start, not the swap.`,
      );
    }
  }
  return notes;
}
