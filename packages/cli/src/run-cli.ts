import { Command, CommanderError } from 'commander';
import { VERSION } from '@parley/server';
import { addAdminCommand } from './admin-command.js';
import { addBenchCommand } from './bench-command.js';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { addServeCommand } from './serve-command.js';

function createProgram(io: CliIo): Command {
  const env = io.env ?? process.env;
  // Settings made before .command() are inherited by every subcommand.
  const program = new Command('parley')
    .description('Parley: self-hosted chat for people and bots')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // Help wraps at a fixed width so it reads the same in a terminal, a pipe and a test.
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError('(add --help for usage)');
  addServeCommand(program, io, env);
  addAdminCommand(program, io, env);
  addBenchCommand(program, io, env);
  return program;
}

/**
 * Runs the `parley` command line and resolves to its exit code: 0 success, 1 runtime error, 2 usage
 * error. It never exits the process, so tests run it in-process with their own `io`; only the `bin`
 * launcher turns the code into `process.exit`.
 *
 * @param argv - the arguments after the program name, e.g. `['admin', 'user', 'list', '--json']`
 * @example
 * ```ts
 * let out = '';
 * const code = await runCli(['admin', 'key'], { stdout: (s) => (out += s), stderr: () => {}, env: { PARLEY_DATA_DIR: dir } });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await createProgram(io).parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    // Commander has printed its own message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (err instanceof CliError) {
      io.stderr(`error: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILURE;
  }
}
