/** The command did what it was asked. */
export const EXIT_OK = 0;
/** Something failed at run time: the server answered an error, is unreachable, a file is missing. */
export const EXIT_FAILURE = 1;
/** The command line itself is wrong: unknown option, missing argument, invalid value. */
export const EXIT_USAGE = 2;

/**
 * A failure the user can act on. `runCli` prints `error: <message>` (no stack trace) and exits with
 * `exitCode`.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}
