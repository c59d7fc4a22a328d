import { commandFailed, commandLine, type Runner, type RunOptions, type RunResult } from './runner.js';

export interface RecordedCall {
  file: string;
  args: readonly string[];
  input?: string;
  /** `ip rule add pref 31001 ...`: what canned answers match against. */
  line: string;
}

/** Answers a call, or returns undefined to let the next responder try. */
export type Responder = (call: RecordedCall) => Partial<RunResult> | undefined;

interface Canned {
  matches: (call: RecordedCall) => boolean;
  answer: Responder;
  times: number;
}

/**
 * A Runner for tests: every call is written to a transcript (`[call] ip rule add ...`, stdin as a
 * here-document), so side effects can be compared as text. Canned answers are tried newest first,
 * then the fallback (for example a FakeKernel); unanswered calls succeed with empty output.
 */
export class RecordingRunner implements Runner {
  readonly calls: RecordedCall[] = [];
  private readonly lines: string[] = [];
  private readonly canned: Canned[] = [];

  constructor(private readonly fallback?: Responder) {}

  /**
   * Answers calls whose command line starts with `match` (or matches the RegExp). `times`
   * limits how often (default: always).
   */
  on(match: string | RegExp | ((call: RecordedCall) => boolean), answer: Partial<RunResult> | Responder, times = Infinity): this {
    const matches = typeof match === 'function' ? match
      : typeof match === 'string' ? (call: RecordedCall) => call.line === match || call.line.startsWith(`${match} `)
        : (call: RecordedCall) => match.test(call.line);
    this.canned.unshift({ matches, answer: typeof answer === 'function' ? answer : () => answer, times });
    return this;
  }

  /** Adds a line that is not a command (a file written, a sysctl set) to the transcript. */
  note(line: string): void {
    this.lines.push(line);
  }

  get transcript(): string {
    return this.lines.length ? `${this.lines.join('\n')}\n` : '';
  }

  /** Command lines only, without stdin: handy for order assertions. */
  get commandLines(): string[] {
    return this.calls.map((c) => c.line);
  }

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const call: RecordedCall = { file, args: [...args], line: commandLine(file, args), ...(options.input !== undefined ? { input: options.input } : {}) };
    this.calls.push(call);
    this.lines.push(options.input === undefined ? `[call] ${call.line}` : `[call] ${call.line} <<EOF\n${withNewline(options.input)}EOF`);
    const answer = this.answer(call);
    const result: RunResult = { exitCode: answer?.exitCode ?? 0, stdout: answer?.stdout ?? '', stderr: answer?.stderr ?? '' };
    if (result.exitCode !== 0 && options.reject !== false) throw commandFailed(file, args, result);
    return result;
  }

  private answer(call: RecordedCall): Partial<RunResult> | undefined {
    for (const canned of this.canned) {
      if (canned.times <= 0 || !canned.matches(call)) continue;
      const answer = canned.answer(call);
      if (answer === undefined) continue;
      canned.times--;
      return answer;
    }
    return this.fallback?.(call);
  }
}

function withNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
