/**
 * Errors are values with a code; the CLI has one formatter and maps codes to exit codes.
 * `config`, `usage` and `strategy` are the user's to fix (exit 2); `runtime` is the system's (exit 1).
 */
export type ErrorCode = 'config' | 'usage' | 'strategy' | 'runtime';

export class MwanError extends Error {
  readonly code: ErrorCode;
  /** One line per problem, each naming the field it is about. */
  readonly problems: readonly string[];

  constructor(code: ErrorCode, problems: string | readonly string[], options?: { cause?: unknown }) {
    const list = typeof problems === 'string' ? [problems] : [...problems];
    super(list.join('\n'), options);
    this.name = 'MwanError';
    this.code = code;
    this.problems = list;
  }
}

/**
 * No link of the config can carry traffic now (every interface absent, down, without carrier or
 * address …). `mwan apply` fails with it (exit 1); `mwan watch` waits for a link instead, since
 * links come and go.
 */
export class NoUsableLinkError extends MwanError {
  constructor(message: string) {
    super('runtime', message);
    this.name = 'NoUsableLinkError';
  }
}

/** Whether `error`, or an error it was caused by (an apply wraps what failed), is a NoUsableLinkError. */
export function noUsableLink(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) if (e instanceof NoUsableLinkError) return true;
  return false;
}

export function configError(problems: string | readonly string[]): MwanError {
  return new MwanError('config', problems);
}

export function strategyError(problems: string | readonly string[], cause?: unknown): MwanError {
  return new MwanError('strategy', problems, { cause });
}

export function runtimeError(message: string, cause?: unknown): MwanError {
  return new MwanError('runtime', message, { cause });
}

/** What went wrong, for a log line or a message: an MwanError's problems, an Error's message. */
export function errorMessage(error: unknown): string {
  if (error instanceof MwanError) return error.problems.join('; ');
  if (error instanceof Error) return error.message;
  return String(error);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof MwanError) return error.code === 'runtime' ? 1 : 2;
  return 1;
}
