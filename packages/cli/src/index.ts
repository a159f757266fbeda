/**
 * @packageDocumentation
 * The `parley` command: `serve` starts a server; `admin …` prints the admin key and manages users and
 * tokens on a running server over HTTP; `bench` measures fan-out against a bare baseline
 * (docs/benchmarks.md). {@link runCli} runs it in-process (tests); `bin/parley.js` runs it as a process.
 */
export { runCli } from './run-cli.js';
export type { CliIo } from './cli-io.js';
export { CliError, EXIT_OK, EXIT_FAILURE, EXIT_USAGE } from './cli-error.js';
export { serveConfigFrom } from './serve-command.js';
export { AdminClient } from './admin-client.js';
export {
  dataDirFrom,
  readAdminKey,
  resolveAdminConnection,
  serverUrlFrom,
  type AdminConnection,
  type AdminConnectionFlags,
} from './admin-connection.js';
export * from './bench/index.js';
