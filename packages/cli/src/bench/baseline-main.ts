import { parseArgs } from 'node:util';
import { startBaselineServer } from './baseline-server.js';

// The baseline server as a process of its own (so it can be pinned to a core like Parley): prints
// `listening <url>` once ready and stops on SIGTERM or SIGINT.
const { values } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' }, db: { type: 'string' } },
});
if (values.db === undefined) throw new Error('--db <file> is required');
const server = await startBaselineServer({ host: values.host, port: Number(values.port), dbPath: values.db });
process.stdout.write(`listening ${server.url}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
