// mwan(8) against `--help`: the page is rendered by groff as man(1) would show it, and every
// line `mwan [command] --help` prints (usage, description, each option and command with its
// description and default, the text after) must be in it, and every long option of the page in
// some help. A help that gained an option, or a page that lost a default, is reported.
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { CommanderError, type Command } from 'commander';
import { container as rootContainer } from 'tsyringe';
import { wire } from './container.js';
import { renderBashCompletion } from './bash-completion.js';
import { renderManPage, subcommands } from './man-page.js';
import { createProgram } from './program.js';

/** A fresh program (parsing leaves state behind) whose output goes to `out`. */
function program(out: (text: string) => void = () => {}): Command {
  return createProgram({ container: wire(rootContainer.createChildContainer()), io: { out, err: () => {} }, env: {} });
}

/** What `mwan --help` and `mwan <command> --help` print, by command ('' for the program). */
async function helpTexts(make: (out: (text: string) => void) => Command): Promise<Map<string, string>> {
  const names = ['', ...subcommands(make(() => {})).map((c) => c.name())];
  const texts = new Map<string, string>();
  for (const name of names) {
    let text = '';
    try {
      await make((t) => { text += t; }).parseAsync([...(name ? [name] : []), '--help'], { from: 'user' });
    } catch (error) {
      if (!(error instanceof CommanderError) || error.code !== 'commander.helpDisplayed') throw error;
    }
    texts.set(name, text);
  }
  return texts;
}

async function manText(page: string): Promise<string> {
  const { stdout } = await execa('groff', ['-man', '-Tascii', '-P-cbou'], { input: page, env: { LC_ALL: 'C' } });
  return stdout;
}

const normalize = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The pieces of one `--help` text: usage, description and after text, and `term description` of each item. */
function helpPieces(text: string): string[] {
  const pieces: string[] = [];
  let item: string | undefined;
  let prose: string[] = [];
  const flush = () => {
    if (item !== undefined) pieces.push(item);
    if (prose.length) pieces.push(prose.join(' '));
    item = undefined;
    prose = [];
  };
  for (const line of text.split('\n')) {
    if (/^ {3,}\S/.test(line) && item !== undefined) item += ` ${line.trim()}`;
    else if (/^ {2}\S/.test(line)) {
      flush();
      item = line.trim();
    } else if (/^(Options|Commands|Global Options|Arguments):$/.test(line) || !line.trim()) flush();
    else if (line.startsWith('Usage: ')) {
      flush();
      pieces.push(line.slice('Usage: '.length));
    } else {
      if (item !== undefined) flush();
      prose.push(line);
    }
  }
  flush();
  return pieces.map(normalize);
}

/**
 * The rendered page by part: '' is everything before the first command's subsection (NAME to
 * COMMANDS, with the global options), each command its own subsection.
 */
function manParts(man: string): Map<string, string> {
  const parts = new Map<string, string>([['', '']]);
  let current = '';
  for (const line of man.split('\n')) {
    const heading = /^ {3}mwan (\S+)/.exec(line);
    if (heading) current = heading[1];
    else if (/^[A-Z]/.test(line) && current !== '') current = '-';
    parts.set(current, `${parts.get(current) ?? ''}\n${line}`);
  }
  return new Map([...parts].map(([k, v]) => [k, normalize(v)]));
}

/**
 * What a command's help says that its part of the page (or, for global options, the program's
 * part) does not, and the long options of the page that no help has.
 */
function disagreements(man: string, helps: Map<string, string>): string[] {
  const parts = manParts(man);
  const problems: string[] = [];
  for (const [name, text] of helps) {
    const where = `${parts.get(name) ?? ''} ${parts.get('') ?? ''}`;
    for (const piece of helpPieces(text)) if (!where.includes(piece)) problems.push(`mwan ${name} --help says, the page does not: ${piece}`);
  }
  const helpFlags = new Set([...helps.values()].flatMap((t) => t.match(/--[a-z][a-z-]*/g) ?? []));
  for (const flag of new Set(normalize(man).match(/--[a-z][a-z-]*/g) ?? [])) if (!helpFlags.has(flag)) problems.push(`the page has ${flag}, no --help does`);
  return problems;
}

describe('mwan(8)', () => {
  const date = '2026-01-02';

  it('says everything --help says, for the program and every command, and no option --help lacks', async () => {
    const page = renderManPage(program(), { date });
    const helps = await helpTexts(program);
    // Every command `mwan --help` lists (but commander's own `help`) has its page section.
    const block = /^Commands:\n([\s\S]*?)\n\n/m.exec(helps.get('') ?? '')?.[1] ?? '';
    const listed = block.split('\n').map((l) => /^ {2}([a-z-]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined && n !== 'help');
    expect(listed).toEqual(expect.arrayContaining(['apply', 'check', 'watch']));
    expect([...helps.keys()]).toEqual(['', ...listed]);
    const man = await manText(page);
    expect(man).toContain('MWAN(8)');
    expect(disagreements(man, helps)).toEqual([]);
    // Hidden commands stay out of both.
    expect(page).not.toContain('confirm-timer');
  });

  it('disagrees when --help has an option the page lacks', async () => {
    const man = await manText(renderManPage(program(), { date }));
    const withExtra = (out: (text: string) => void) => {
      const p = program(out);
      p.commands.find((c) => c.name() === 'watch')?.option('--brand-new <n>', 'an option added after the page was made');
      return p;
    };
    expect(disagreements(man, await helpTexts(withExtra))).toEqual([
      'mwan watch --help says, the page does not: --brand-new <n> an option added after the page was made',
    ]);
  });

  it('disagrees when the page loses a default or has an option of its own', async () => {
    const helps = await helpTexts(program);
    const page = renderManPage(program(), { date });
    // The last `(default: 10)` is watch's --wait; apply, confirm and down have their own.
    const at = page.lastIndexOf('(default: 10)');
    const lost = `${page.slice(0, at)}${page.slice(at + '(default: 10)'.length)}`;
    expect(disagreements(await manText(lost), helps)).toEqual([
      'mwan watch --help says, the page does not: --wait <seconds> how long each apply waits for another mwan holding the lock (default: 10)',
    ]);
    expect(disagreements(await manText(page.replace('.SH FILES', '.SH FILES\n\\-\\-gone')), helps)).toEqual(['the page has --gone, no --help does']);
  });

  it('is valid roff for man: groff warns about nothing', async () => {
    const { stderr } = await execa('groff', ['-man', '-Tascii', '-ww', '-z'], { input: renderManPage(program(), { date }) });
    expect(stderr).toBe('');
  });
});

describe('bash completion', () => {
  const script = renderBashCompletion(program(), { values: { '--strategy': ['round-robin', 'weighted'] } });

  /** COMPREPLY for the command line `words` (the last one being completed). */
  async function complete(...words: string[]): Promise<string[]> {
    const line = ['mwan', ...words];
    const { stdout } = await execa('bash', ['--norc', '-c', `${script}\nCOMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mwan; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', ...line]);
    return stdout.split('\n').filter(Boolean);
  }

  it('offers the commands of --help, each command its options, and values where known', async () => {
    const commands = subcommands(program()).map((c) => c.name());
    expect(await complete('')).toEqual(expect.arrayContaining([...commands, 'help', '--config', '--run-dir', '--json', '--version']));
    expect(await complete('a')).toEqual(['apply']);
    expect(await complete('apply', '--dry')).toEqual(['--dry-run']);
    expect(await complete('--json', 'apply', '--strategy', 'w')).toEqual(['weighted']);
    expect(await complete('-c', '/etc/mwan/x', 'watch', '--w')).toEqual(['--wait']);
    expect(await complete('help', 'wa')).toEqual(['watch']);
    expect(await complete('apply', '--wait', '')).toEqual([]);
    expect(script).not.toContain('confirm-timer');
  });

  it('completes every option each command documents in --help', async () => {
    for (const [name, text] of await helpTexts(program)) {
      if (!name) continue;
      const offered = await complete(name, '-');
      const terms = text.split('\n').filter((l) => /^ {2}-/.test(l)).map((l) => l.trim().split(/\s{2,}/)[0]);
      const documented = [...new Set(terms.flatMap((t) => t.match(/--?[a-zA-Z][a-z-]*/g) ?? []))];
      expect(documented).toContain('--help');
      expect({ name, missing: documented.filter((f) => !offered.includes(f)) }).toEqual({ name, missing: [] });
    }
  });
});
