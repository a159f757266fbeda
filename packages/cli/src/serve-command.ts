import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_LIMITS } from '@parley/protocol';
import { CONFIG_FIELDS, createServer, describeConfig, loadConfig, type ConfigField, type ParleyConfig, type ParleyServer } from '@parley/server';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { waitForSignal } from './wait-for-signal.js';

type Env = Readonly<Record<string, string | undefined>>;

const isLimit = (f: ConfigField): boolean => Object.hasOwn(DEFAULT_LIMITS, f.name);

/**
 * The server configuration from `parley serve`'s parsed flags (keyed by config field name, e.g.
 * `{ port: '9000', dataDir: '/srv/parley' }`) and the environment; flags win. Anything that is not a
 * config field is ignored. Throws `loadConfig`'s error, listing every bad setting, when a value is invalid.
 *
 * @example
 * ```ts
 * serveConfigFrom({ port: '9000' }, { PARLEY_HOST: '0.0.0.0' }); // port 9000 on every interface
 * ```
 */
export function serveConfigFrom(flags: Readonly<Record<string, unknown>>, env: Env): ParleyConfig {
  const picked: Record<string, string> = {};
  for (const f of CONFIG_FIELDS) {
    const value = flags[f.name];
    if (typeof value === 'string' || typeof value === 'number') picked[f.name] = String(value);
  }
  return loadConfig(env, picked);
}

/** `<port>`, `<dir>`, `<url>`…: the last word of the field name, which reads well for every field. */
function placeholder(f: ConfigField): string {
  if (f.kind === 'secret') return 'secret';
  if (f.kind === 'int' && f.name !== 'port') return 'n';
  return (f.name.split(/(?=[A-Z])/).at(-1) ?? 'value').toLowerCase();
}

function configOption(f: ConfigField): Option {
  const values = f.values ? `: ${f.values.join(', ')}` : '';
  // Command lines show up in `ps` and shell history; secrets belong in the environment.
  const secretNote = f.kind === 'secret' ? '; prefer the variable: command lines are visible to other users' : '';
  return new Option(`${f.flag} <${placeholder(f)}>`, `${f.description}${values} [env ${f.env}, default ${f.default}${secretNote}]`).helpGroup(
    isLimit(f) ? 'Limits:' : 'Server options:',
  );
}

/** How to print the admin key; names the data directory only when it is not the default one. */
function keyCommand(config: ParleyConfig): string {
  const dir = config.dataDir === resolve('./.parley') ? '' : ` --data-dir ${JSON.stringify(config.dataDir)}`;
  return `npx parley admin key${dir}`;
}

function adminKeyLine(server: ParleyServer): string {
  const { secrets } = server;
  if (secrets.adminKeySource === 'env') return 'Admin key: from PARLEY_ADMIN_KEY.';
  const where = secrets.adminKeyGenerated ? `generated into ${secrets.adminKeyFile} (first start)` : `stored in ${secrets.adminKeyFile}`;
  return `Admin key: ${where}; \`${keyCommand(server.config)}\` prints it.`;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Adds `parley serve`: start the server with every configuration setting as a flag. */
export function addServeCommand(program: Command, io: CliIo, env: Env): void {
  const serve = program
    .command('serve')
    .description('Start the Parley server (Ctrl-C or SIGTERM stops it gracefully)')
    .addHelpText('after', '\nEvery flag can be set instead by its environment variable; a flag wins over the variable.');
  for (const f of CONFIG_FIELDS) serve.addOption(configOption(f));
  serve.action(async (flags: Record<string, unknown>) => {
    let config: ParleyConfig;
    try {
      config = serveConfigFrom(flags, env);
    } catch (err) {
      throw new CliError(message(err));
    }
    io.stdout(`Starting Parley\n${describeConfig(config).map((l) => `  ${l}\n`).join('')}`);
    let server: ParleyServer;
    try {
      server = await createServer(config);
    } catch (err) {
      throw new CliError(`cannot start the server: ${message(err)}`);
    }
    let url: string;
    try {
      url = await server.listen();
    } catch (err) {
      await server.close();
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the address is already in use (another server running?)' : message(err);
      throw new CliError(`cannot listen on ${config.host}:${config.port}: ${why}`);
    }
    io.stdout(`Parley is listening on ${url}\nAPI docs: ${url}/docs\n${adminKeyLine(server)}\n`);
    try {
      const reason = await (io.untilShutdown ?? waitForSignal)();
      io.stdout(`${reason}: shutting down…\n`);
    } finally {
      await server.close();
    }
    io.stdout('Parley stopped.\n');
  });
}
