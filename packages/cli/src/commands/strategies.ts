import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { globalOptions, type CliContext } from '../context.js';
import { listStrategies, type StrategyListing } from '@mwan/engine';

/** Option names with their allowed values or type, from a strategy's JSON Schema. */
function describeOptions(schema: unknown): string {
  const properties = (schema as { properties?: Record<string, { enum?: unknown[]; type?: string }> })?.properties ?? {};
  const names = Object.entries(properties).map(([name, spec]) =>
    spec.enum ? `${name}: ${spec.enum.map(String).join(' | ')}` : `${name}: ${spec.type ?? 'any'}`);
  return names.length ? names.join(', ') : 'none';
}

function table(listing: readonly StrategyListing[]): string {
  const rows = listing.map((s) => [s.ref, s.source === 'builtin' ? 'built-in' : s.source, s.error ? `cannot load: ${s.error}` : s.description, s.error ? '' : describeOptions(s.options)]);
  const header = ['strategy', 'from', 'description', 'options'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function strategiesCommand(ctx: CliContext): Command {
  return new Command('strategies')
    .summary('list the built-in and installed strategies with their options')
    .description(
      'Lists the built-in strategies, then mwan-strategy-* packages (scoped or not) installed next to the config file (its node_modules) and in the global npm root, in the order a name is resolved. Needs no privileges.',
    )
    .action(async (_options: unknown, command: Command) => {
      const globals = globalOptions(command, ctx.env);
      const listing = await listStrategies({ configDir: dirname(resolve(globals.config)) });
      if (globals.json) {
        ctx.io.out(`${JSON.stringify(listing, null, 2)}\n`);
        return;
      }
      ctx.io.out(table(listing));
    });
}
