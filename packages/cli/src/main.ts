import { runCli } from './run-cli.js';

// The process entry, run by bin/parley.js: the one place that touches process.exit.

// `parley … | head` closes the pipe before everything is written: the reader's choice, not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
}

const code = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
// Exiting while a pipe still holds output would cut it short (`$(parley admin user token alice)`).
const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((done) => stream.write('', () => done()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
