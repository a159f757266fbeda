/**
 * What the CLI reads and writes. `main.ts` binds it to the process; tests pass their own, so a command
 * runs in-process with its output and exit code captured.
 */
export interface CliIo {
  /** Results: what a script captures with `$(parley …)`. */
  stdout(text: string): void;
  /** Errors, hints and progress. */
  stderr(text: string): void;
  /** Where `PARLEY_*` settings come from; `process.env` when omitted. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves, with a reason such as `SIGINT`, when `parley serve` should shut down. When omitted, the
   * first SIGINT or SIGTERM.
   */
  untilShutdown?: () => Promise<string>;
}
