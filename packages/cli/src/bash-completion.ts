import type { Command, Option } from 'commander';
import { subcommands } from './man-page.js';

export interface CompletionOptions {
  /** Words offered after an option that takes a value, by its long flag: `{ '--strategy': [...] }`. */
  values?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A bash completion script for the program, made from its commander definition (as mwan(8) is):
 * command names, each command's options and the global ones. Values: files after `<file>`,
 * directories after `<dir>`, the given words for the flags in `values`, nothing for the rest.
 */
export function renderBashCompletion(program: Command, options: CompletionOptions = {}): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const help = program.createHelp();
  const globals = help.visibleOptions(program);
  const commands = subcommands(program, help);
  const all = [...globals, ...commands.flatMap((c) => c.createHelp().visibleOptions(c))];
  const flags = (list: readonly Option[]) => list.flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
  const takesValue = [...new Set(flags(all.filter((o) => o.required || o.optional)))];
  const valueCases = new Map<string, string>();
  for (const option of all.filter((o) => o.required || o.optional)) {
    const pattern = flags([option]).join('|');
    const values = option.long === undefined ? undefined : options.values?.[option.long];
    const action = values ? `-W ${words(values)}` : /<(file|path)>|\[(file|path)\]/.test(option.flags) ? '-f' : /<dir>|\[dir\]/.test(option.flags) ? '-d' : undefined;
    valueCases.set(pattern, action ? `${fn}_reply ${action}; return ;;` : 'return ;;');
  }
  const commandWords = help.visibleCommands(program).map((c) => c.name());
  const lines = [
    `# bash completion for ${name}(8), generated from its command-line definition: do not edit.`,
    `${fn}_reply() { mapfile -t COMPREPLY < <(compgen "$@" -- "\${COMP_WORDS[COMP_CWORD]}"); }`,
    `${fn}() {`,
    '  local prev=${COMP_WORDS[COMP_CWORD-1]} command= i',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case ${COMP_WORDS[i]} in',
    ...(takesValue.length ? [`      ${takesValue.join('|')}) ((i++)) ;;`] : []),
    '      -*) ;;',
    '      *) command=${COMP_WORDS[i]}; break ;;',
    '    esac',
    '  done',
    '  case $prev in',
    ...[...valueCases].map(([pattern, action]) => `    ${pattern}) ${action}`),
    '  esac',
    '  case $command in',
    `    '') ${fn}_reply -W ${words([...commandWords, ...flags(globals)])} ;;`,
    ...commands.map((c) => `    ${c.name()}) ${fn}_reply -W ${words([...flags(c.createHelp().visibleOptions(c)), ...flags(globals)])} ;;`),
    ...(commandWords.includes('help') ? [`    help) ${fn}_reply -W ${words(commands.map((c) => c.name()))} ;;`] : []),
    '  esac',
    '}',
    `complete -F ${fn} ${name}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** One single-quoted shell word of distinct words, in their first order. */
function words(list: readonly string[]): string {
  return `'${[...new Set(list)].join(' ').replaceAll("'", "'\\''")}'`;
}
