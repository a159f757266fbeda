import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, EXIT_USAGE } from './cli-error.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The connection flags shared by every `parley admin` command; each falls back to its environment variable. */
export interface AdminConnectionFlags {
  url?: string | undefined;
  adminKey?: string | undefined;
  dataDir?: string | undefined;
}

/** Where a running server is and the key that administers it. */
export interface AdminConnection {
  url: string;
  adminKey: string;
}

const set = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

/**
 * The server's base URL: `--url`, else `PARLEY_URL`, else built from `PARLEY_HOST`/`PARLEY_PORT` (the
 * same variables `parley serve` reads, so one environment drives both), else `http://127.0.0.1:8080`.
 */
export function serverUrlFrom(flags: AdminConnectionFlags, env: Env): string {
  const raw = set(flags.url) ?? set(env['PARLEY_URL']) ?? derivedUrl(env);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`invalid server URL "${raw}": expected e.g. http://127.0.0.1:8080`, EXIT_USAGE);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid server URL "${raw}": expected an http:// or https:// URL`, EXIT_USAGE);
  }
  return raw.replace(/\/+$/, '');
}

/** The server's own scheme: https when it is configured with a TLS certificate, as `parley serve` would be. */
function derivedUrl(env: Env): string {
  let host = set(env['PARLEY_HOST']) ?? '127.0.0.1';
  // A server bound to every interface is reached on loopback, as create-server reports its own URL.
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  if (host.includes(':')) host = `[${host}]`;
  const scheme = set(env['PARLEY_TLS_CERT']) === undefined ? 'http' : 'https';
  return `${scheme}://${host}:${set(env['PARLEY_PORT']) ?? '8080'}`;
}

/** The data directory, resolved: `--data-dir`, else `PARLEY_DATA_DIR`, else `./.parley` (the server's default). */
export function dataDirFrom(flags: AdminConnectionFlags, env: Env): string {
  return resolve(set(flags.dataDir) ?? set(env['PARLEY_DATA_DIR']) ?? './.parley');
}

/**
 * A key the server keeps in its data directory: the given value (flag or environment variable), else
 * the file `name` the server generated there on first start.
 */
function readDataDirKey(given: string | undefined, flags: AdminConnectionFlags, env: Env, key: { name: string; what: string; variable: string }): string {
  if (given !== undefined) return given;
  const file = join(dataDirFrom(flags, env), key.name);
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError(`cannot read the ${key.what} from ${file}: ${(err as Error).message}`);
    }
    throw new CliError(
      `no ${key.what} at ${file}: start the server once (npm start) to generate it, ` +
        `or pass --data-dir (PARLEY_DATA_DIR) or set ${key.variable}`,
    );
  }
  if (value === '') throw new CliError(`the ${key.what} file ${file} is empty`);
  return value;
}

/**
 * The admin key: `--admin-key`, else `PARLEY_ADMIN_KEY` (which also overrides the server's stored key),
 * else the `admin-key` file the server generated into its data directory on first start.
 */
export function readAdminKey(flags: AdminConnectionFlags, env: Env): string {
  return readDataDirKey(set(flags.adminKey) ?? set(env['PARLEY_ADMIN_KEY']), flags, env, {
    name: 'admin-key',
    what: 'admin key',
    variable: 'PARLEY_ADMIN_KEY',
  });
}

/**
 * The ACS access key: `--acs-access-key`, else `PARLEY_ACS_ACCESS_KEY` (which also overrides the server's
 * stored key), else the `acs-access-key` file the server generated into its data directory.
 */
export function readAcsAccessKey(flags: AdminConnectionFlags & { acsAccessKey?: string | undefined }, env: Env): string {
  return readDataDirKey(set(flags.acsAccessKey) ?? set(env['PARLEY_ACS_ACCESS_KEY']), flags, env, {
    name: 'acs-access-key',
    what: 'ACS access key',
    variable: 'PARLEY_ACS_ACCESS_KEY',
  });
}

/** Everything an admin command needs to reach the server. */
export function resolveAdminConnection(flags: AdminConnectionFlags, env: Env): AdminConnection {
  return { url: serverUrlFrom(flags, env), adminKey: readAdminKey(flags, env) };
}
