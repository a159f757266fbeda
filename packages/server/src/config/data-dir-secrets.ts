import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParleyConfig } from './load-config.js';

export interface ResolvedSecrets {
  adminKey: string;
  jwtSecret: Uint8Array;
  /** The ACS access key (base64, as it appears in the connection string). */
  acsAccessKey: string;
  /** Where the admin key lives, for the start-up message. */
  adminKeySource: 'env' | 'file';
  adminKeyFile: string;
  /** True when this start generated the admin key. */
  adminKeyGenerated: boolean;
}

/** The file in the data directory that holds the generated ACS access key (`parley admin acs-connection-string` reads it). */
export const ACS_ACCESS_KEY_FILE = 'acs-access-key';

/** Reads a secret file, or makes it (mode 0600) with `make()` when missing. Exclusive create: two starts never race. */
function readOrCreate(path: string, make: () => string): { value: string; created: boolean } {
  try {
    return { value: readFileSync(path, 'utf8').trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = make();
  try {
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return { value, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { value: readFileSync(path, 'utf8').trim(), created: false };
    throw err;
  }
}

/** The admin key, token key and ACS access key: from the configuration when set, else from (or generated into) the data directory. */
export function resolveSecrets(config: ParleyConfig): ResolvedSecrets {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const adminKeyFile = join(config.dataDir, 'admin-key');
  let adminKey: string;
  let adminKeyGenerated = false;
  if (config.adminKey) adminKey = config.adminKey.reveal();
  else {
    const r = readOrCreate(adminKeyFile, () => `pk_admin_${randomBytes(32).toString('base64url')}`);
    adminKey = r.value;
    adminKeyGenerated = r.created;
  }
  const jwt = config.jwtSecret
    ? config.jwtSecret.reveal()
    : readOrCreate(join(config.dataDir, 'jwt-secret'), () => randomBytes(48).toString('base64url')).value;
  // Base64 because the ACS SDKs base64-decode the `accesskey=` of a connection string into the HMAC key.
  const acsAccessKey = config.acsAccessKey
    ? config.acsAccessKey.reveal()
    : readOrCreate(join(config.dataDir, ACS_ACCESS_KEY_FILE), () => randomBytes(32).toString('base64')).value;
  return {
    adminKey,
    jwtSecret: new TextEncoder().encode(jwt),
    acsAccessKey,
    adminKeySource: config.adminKey ? 'env' : 'file',
    adminKeyFile,
    adminKeyGenerated,
  };
}
