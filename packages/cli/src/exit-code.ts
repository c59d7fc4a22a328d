/**
 * Ends a command with a given exit code and nothing printed: `mwan use` passes on its command's
 * code (and 128 + N for a command killed by signal N, as shells do).
 */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
