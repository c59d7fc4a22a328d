import type { Command, Help } from 'commander';
import { DEFAULT_CONFIG_PATH } from '@mwan/core';
import { DEFAULT_RUN_DIR } from '@mwan/engine';

export interface ManPageOptions {
  /** The date in the page's title line (YYYY-MM-DD): the package's changelog date, so builds are reproducible. */
  date: string;
  /** Where the installed documentation lives, for SEE ALSO. */
  docDir?: string;
}

/**
 * mwan(8) in roff (man macros), made from the same commander definition that prints `--help`:
 * every command, usage line, description, option term and option description comes from
 * commander's own Help methods, so the page and `--help` cannot say different things. Only
 * FILES, ENVIRONMENT and SEE ALSO, which `--help` does not have, are written here.
 */
export function renderManPage(program: Command, options: ManPageOptions): string {
  const help = program.createHelp();
  const name = program.name();
  const version = program.version() ?? '';
  const commands = subcommands(program, help);
  const docDir = options.docDir ?? `/usr/share/doc/${name}`;
  const lines: string[] = [
    `.\\" Generated from the command-line definition of ${name} (packages/cli/src/man-page.ts): do not edit.`,
    `.TH ${name.toUpperCase()} 8 ${quoted(options.date)} ${quoted(`${name} ${version}`)} "System Administration"`,
    // Option names and paths read better unbroken and unjustified.
    '.nh',
    '.ad l',
    '.SH NAME',
    `${name} \\- ${text(firstSentence(help.commandDescription(program)))}`,
    '.SH SYNOPSIS',
    `.B ${text(help.commandUsage(program))}`,
    ...commands.flatMap((command) => ['.br', `.B ${text(help.commandUsage(command))}`]),
    '.SH DESCRIPTION',
    ...paragraphs(help.commandDescription(program)),
    ...paragraphs(afterHelp(program)),
    '.SH OPTIONS',
    ...items(help.visibleOptions(program).map((o) => [help.optionTerm(o), help.optionDescription(o)])),
    '.SH COMMANDS',
    ...items(help.visibleCommands(program).map((c) => [help.subcommandTerm(c), help.subcommandDescription(c)])),
  ];
  for (const command of commands) {
    const commandHelp = command.createHelp();
    lines.push(`.SS ${quoted(commandHelp.commandUsage(command))}`, ...paragraphs(commandHelp.commandDescription(command)));
    const args = commandHelp.visibleArguments(command);
    if (args.length) lines.push('.PP', 'Arguments:', ...items(args.map((a) => [commandHelp.argumentTerm(a), commandHelp.argumentDescription(a)])));
    const own = commandHelp.visibleOptions(command);
    if (own.length) lines.push('.PP', 'Options:', ...items(own.map((o) => [commandHelp.optionTerm(o), commandHelp.optionDescription(o)])));
    lines.push(...paragraphs(afterHelp(command)));
  }
  lines.push(
    '.SH FILES',
    ...items([
      [DEFAULT_CONFIG_PATH, 'the config (--config); its JSON Schema is in the documentation'],
      [`${DEFAULT_RUN_DIR}/state.json`, 'each link\'s mark and table, and what the last apply changed (--run-dir)'],
      [`${DEFAULT_RUN_DIR}/health.json`, 'each link\'s health, written by mwan watch'],
      [`${DEFAULT_RUN_DIR}/journal.json, confirm.json, confirm.log`, 'an apply in progress, a pending apply --confirm'],
    ]),
    '.SH ENVIRONMENT',
    ...items([['MWAN_RUN_DIR', `the run dir when --run-dir is not given (default ${DEFAULT_RUN_DIR})`]]),
    '.SH SEE ALSO',
    '.BR nft (8),',
    '.BR ip (8),',
    '.BR conntrack (8),',
    '.BR systemctl (1)',
    '.PP',
    text(`${docDir}/README.md, ${docDir}/cli.md, ${docDir}/health.md, ${docDir}/writing-a-strategy.md`),
  );
  return `${lines.join('\n')}\n`;
}

/** The subcommands that have a page section: the visible ones, not commander's implicit `help`. */
export function subcommands(program: Command, help: Help = program.createHelp()): Command[] {
  const visible = help.visibleCommands(program);
  return program.commands.filter((c) => visible.includes(c));
}

/** What `addHelpText('after', ...)` adds below a command's help: commander keeps it only as a listener. */
export function afterHelp(command: Command): string {
  let printed = '';
  const saved = { ...command.configureOutput() };
  command.configureOutput({ writeOut: (s) => { printed += s; } });
  try {
    command.outputHelp();
  } finally {
    command.configureOutput(saved);
  }
  const body = command.helpInformation();
  return printed.startsWith(body) ? printed.slice(body.length).trim() : '';
}

function firstSentence(description: string): string {
  const end = description.indexOf('. ');
  return (end < 0 ? description : description.slice(0, end)).replace(/\.$/, '');
}

/** Text for a roff line: backslashes escaped, minus signs as `\-`, a leading control character neutralised. */
function text(s: string): string {
  const escaped = s.replaceAll('\\', '\\e').replaceAll('-', '\\-');
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

function quoted(s: string): string {
  return `"${text(s).replaceAll('"', '\\(dq')}"`;
}

/** Blank lines in the source start paragraphs; other line breaks are kept as breaks. */
function paragraphs(s: string): string[] {
  if (!s.trim()) return [];
  return s.trim().split(/\n\s*\n/).flatMap((p) => ['.PP', ...p.split('\n').flatMap((line, i) => (i ? ['.br', text(line)] : [text(line)]))]);
}

function items(pairs: readonly (readonly [string, string])[]): string[] {
  return pairs.flatMap(([term, description]) => ['.TP', `.B ${text(term)}`, text(description)]);
}
