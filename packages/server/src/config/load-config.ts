import { join, resolve } from 'node:path';
import { DEFAULT_LIMITS, type Limits } from '@parley/protocol';
import { Secret } from './secret.js';

/** The server's configuration. Every field maps to `PARLEY_<UPPER_SNAKE>` and to a CLI flag. */
export interface ParleyConfig {
  readonly port: number;
  readonly host: string;
  /** Where the embedded database, generated secrets and files live. */
  readonly dataDir: string;
  /** `postgres://…` or a SQLite file path; defaults to `<dataDir>/parley.db`. */
  readonly databaseUrl: string;
  /** `redis://…`: share realtime events between processes; unset keeps the in-process bus. */
  readonly redisUrl: string | undefined;
  /** The Redis channel: deployments sharing one Redis use different channels. */
  readonly redisChannel: string;
  /** Overrides the admin API key stored in the data directory (for automation). */
  readonly adminKey: Secret | undefined;
  /** HMAC key for access tokens; generated into the data directory when unset. Share it across processes. */
  readonly jwtSecret: Secret | undefined;
  /** PEM certificate chain file: with `tlsKey`, the server speaks HTTPS and WSS only. */
  readonly tlsCert: string | undefined;
  /** PEM private key file of `tlsCert`. */
  readonly tlsKey: string | undefined;
  /** Browser origins allowed to call the API (CORS): `*` or a list; unset sends no CORS headers. */
  readonly corsOrigins: '*' | readonly string[] | undefined;
  /** The Azure Communication Services access key (HMAC) of the ACS identity API; generated into the data directory when unset. */
  readonly acsAccessKey: Secret | undefined;
  readonly tokenTtlSeconds: number;
  /** How long an idempotency key is remembered: a retry later than this makes a new resource. */
  readonly idempotencyTtlSeconds: number;
  /** How long an upload may stay unsent before it is removed. */
  readonly attachmentTtlSeconds: number;
  /** Webhook delivery: attempts before a delivery is dead-lettered, the backoff, and the per-request timeout. */
  readonly webhookMaxAttempts: number;
  readonly webhookRetryBaseMs: number;
  readonly webhookRetryMaxMs: number;
  readonly webhookTimeoutMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly limits: Readonly<Limits>;
}

type Kind = 'int' | 'string' | 'secret' | 'enum';

/** One setting: its name in the config object, environment and CLI, and what it accepts. */
export interface ConfigField {
  readonly name: string;
  readonly env: string;
  readonly flag: string;
  readonly kind: Kind;
  readonly description: string;
  readonly default: string;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

const envName = (name: string): string => `PARLEY_${name.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
const flagName = (name: string): string => `--${name.replace(/([A-Z])/g, '-$1').toLowerCase()}`;

function field(name: string, kind: Kind, description: string, dflt: string, extra: Partial<ConfigField> = {}): ConfigField {
  return { name, env: envName(name), flag: flagName(name), kind, description, default: dflt, ...extra };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const LIMIT_DESCRIPTIONS: Record<keyof Limits, string> = {
  maxBodyBytes: 'Largest request body, in bytes',
  maxMessageLength: 'Longest message, in characters',
  maxMetadataEntries: 'Most metadata entries on a message or conversation',
  maxMetadataBytes: 'Largest metadata map, in bytes',
  maxTitleLength: 'Longest conversation title',
  maxDescriptionLength: 'Longest conversation description',
  maxKeywords: 'Most keywords on a room',
  maxDisplayNameLength: 'Longest sender display name',
  maxMembersPerRequest: 'Most members added in one request',
  maxMembersPerConversation: 'Most members in one conversation',
  defaultPageSize: 'Page size when none is asked for',
  maxPageSize: 'Largest page of messages, events, conversations or users',
  maxMembersPageSize: 'Largest page of members',
  maxConnectionsPerUser: 'Most realtime connections per user (per process)',
  messageRatePerSecond: 'Messages a user may send per second, sustained',
  messageBurst: 'Messages a user may send at once before the rate applies',
  typingIntervalMs: 'Shortest interval between typing notifications of a member',
  maxSignalBytes: 'Largest signal payload, in bytes of JSON',
  heartbeatSeconds: 'Realtime heartbeat interval; silent peers are dropped after two',
  maxSocketBufferBytes: 'Pending outgoing bytes before a slow realtime consumer is cut off',
  maxAttachmentBytes: 'Largest upload of a file that is not an image, video or audio, in bytes',
  maxImageBytes: 'Largest image upload, in bytes',
  maxVideoBytes: 'Largest video upload, in bytes',
  maxAudioBytes: 'Largest audio upload, in bytes',
  maxVoiceBytes: 'Largest voice note upload, in bytes',
  maxImagePixels: 'Largest image (width × height) decoded for a thumbnail',
  maxAttachmentsPerMessage: 'Most attachments on one message',
};

/** Every setting, in the order the README's configuration table lists them. */
export const CONFIG_FIELDS: readonly ConfigField[] = [
  field('port', 'int', 'TCP port to listen on (0 picks a free one)', '8080', { min: 0, max: 65535 }),
  field('host', 'string', 'Interface to listen on', '127.0.0.1'),
  field('dataDir', 'string', 'Data directory: embedded database, generated secrets', './.parley'),
  field('databaseUrl', 'string', 'SQLite file path or postgres:// URL', '<dataDir>/parley.db'),
  field('redisUrl', 'string', 'redis:// URL: share realtime events between processes', 'unset (in-process bus)'),
  field('redisChannel', 'string', 'Redis pub/sub channel (one per deployment sharing a Redis)', 'parley:bus'),
  field('adminKey', 'secret', 'Admin API key (instead of the generated one)', 'generated into <dataDir>/admin-key'),
  field('jwtSecret', 'secret', 'Token signing key (set the same on every process)', 'generated into <dataDir>/jwt-secret'),
  field('tlsCert', 'string', 'PEM certificate (chain) file: serve HTTPS and WSS (needs --tls-key)', 'unset (plain HTTP)'),
  field('tlsKey', 'string', 'PEM private key file of the TLS certificate', 'unset'),
  field('corsOrigins', 'string', 'Browser origins allowed to call the API (CORS): * or a comma-separated list of origins', 'unset (no CORS)'),
  field('acsAccessKey', 'secret', 'Access key of the ACS-compatible identity API (base64)', 'generated into <dataDir>/acs-access-key'),
  field('tokenTtlSeconds', 'int', 'Lifetime of tokens from login or key exchange', '3600', { min: 60, max: 31_536_000 }),
  field('idempotencyTtlSeconds', 'int', 'How long idempotency keys are remembered', '86400', { min: 60, max: 31_536_000 }),
  field('attachmentTtlSeconds', 'int', 'How long an upload may stay unsent before it is removed', '86400', { min: 60, max: 31_536_000 }),
  field('webhookMaxAttempts', 'int', 'Attempts at a webhook delivery before it is dead-lettered', '10', { min: 1, max: 1000 }),
  field('webhookRetryBaseMs', 'int', 'Delay before the first webhook retry; doubles with each failure', '1000', { min: 1, max: 86_400_000 }),
  field('webhookRetryMaxMs', 'int', 'Longest delay between webhook retries', '3600000', { min: 1, max: 86_400_000 }),
  field('webhookTimeoutMs', 'int', 'How long one webhook request may take', '10000', { min: 100, max: 300_000 }),
  field('logLevel', 'enum', 'Log level', 'info', { values: LOG_LEVELS }),
  ...(Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]).map((name) =>
    field(name, 'int', LIMIT_DESCRIPTIONS[name], String(DEFAULT_LIMITS[name]), { min: 1, max: 2 ** 31 - 1 }),
  ),
];

/**
 * Builds the configuration from the environment and flags (flags win). Pure. Throws one error naming
 * every bad setting rather than starting with a half-understood configuration.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  flags: Readonly<Record<string, string | number | undefined>> = {},
): ParleyConfig {
  const errors: string[] = [];
  const values = new Map<string, string | number | Secret>();
  for (const f of CONFIG_FIELDS) {
    const flag = flags[f.name];
    const raw = flag !== undefined ? String(flag) : env[f.env];
    if (raw === undefined || raw === '') continue;
    const source = flag !== undefined ? f.flag : f.env;
    switch (f.kind) {
      case 'int': {
        const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
        if (!Number.isSafeInteger(n) || (f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) {
          errors.push(`${source}: expected an integer from ${f.min ?? '-∞'} to ${f.max ?? '∞'}, got "${raw}"`);
        } else values.set(f.name, n);
        break;
      }
      case 'enum':
        if (!f.values?.includes(raw)) errors.push(`${source}: expected one of ${f.values?.join(', ')}, got "${raw}"`);
        else values.set(f.name, raw);
        break;
      case 'secret':
        if (raw.length < 16) errors.push(`${source}: must be at least 16 characters`);
        else values.set(f.name, new Secret(raw));
        break;
      default:
        values.set(f.name, raw);
    }
  }
  const limits = Object.fromEntries(
    (Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]).map((k) => [k, (values.get(k) as number | undefined) ?? DEFAULT_LIMITS[k]]),
  ) as unknown as Limits;
  if (limits.defaultPageSize > limits.maxPageSize) {
    errors.push('the default page size (PARLEY_DEFAULT_PAGE_SIZE, --default-page-size) must not exceed the maximum (PARLEY_MAX_PAGE_SIZE, --max-page-size)');
  }
  const corsOrigins = parseCorsOrigins(values.get('corsOrigins') as string | undefined, errors);
  if (errors.length > 0) throw new Error(`Invalid configuration:\n  - ${errors.join('\n  - ')}`);
  const dataDir = resolve((values.get('dataDir') as string | undefined) ?? './.parley');
  return Object.freeze({
    port: (values.get('port') as number | undefined) ?? 8080,
    host: (values.get('host') as string | undefined) ?? '127.0.0.1',
    dataDir,
    databaseUrl: (values.get('databaseUrl') as string | undefined) ?? join(dataDir, 'parley.db'),
    redisUrl: values.get('redisUrl') as string | undefined,
    redisChannel: (values.get('redisChannel') as string | undefined) ?? 'parley:bus',
    adminKey: values.get('adminKey') as Secret | undefined,
    jwtSecret: values.get('jwtSecret') as Secret | undefined,
    tlsCert: tlsPath(values.get('tlsCert')),
    tlsKey: tlsPath(values.get('tlsKey')),
    acsAccessKey: values.get('acsAccessKey') as Secret | undefined,
    corsOrigins,
    tokenTtlSeconds: (values.get('tokenTtlSeconds') as number | undefined) ?? 3600,
    idempotencyTtlSeconds: (values.get('idempotencyTtlSeconds') as number | undefined) ?? 86_400,
    attachmentTtlSeconds: (values.get('attachmentTtlSeconds') as number | undefined) ?? 86_400,
    webhookMaxAttempts: (values.get('webhookMaxAttempts') as number | undefined) ?? 10,
    webhookRetryBaseMs: (values.get('webhookRetryBaseMs') as number | undefined) ?? 1000,
    webhookRetryMaxMs: (values.get('webhookRetryMaxMs') as number | undefined) ?? 3_600_000,
    webhookTimeoutMs: (values.get('webhookTimeoutMs') as number | undefined) ?? 10_000,
    logLevel: (values.get('logLevel') as ParleyConfig['logLevel'] | undefined) ?? 'info',
    limits: Object.freeze(limits),
  });
}

/** `*`, or origins (`https://app.example.com`, `http://localhost:5173`): scheme, host and port only. */
function parseCorsOrigins(raw: string | undefined, errors: string[]): '*' | readonly string[] | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '*') return '*';
  const origins: string[] = [];
  for (const part of raw.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    let origin: string | undefined;
    try {
      const url = new URL(part);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === part.replace(/\/$/, '')) origin = url.origin;
    } catch {
      // Reported below.
    }
    if (origin === undefined) errors.push(`PARLEY_CORS_ORIGINS, --cors-origins: "${part}" is not an origin like https://app.example.com (scheme, host, optional port; no path)`);
    else origins.push(origin);
  }
  return Object.freeze(origins);
}

const tlsPath = (value: string | number | Secret | undefined): string | undefined =>
  typeof value === 'string' ? resolve(value) : undefined;

/** The configuration as lines for the start-up log, secrets masked and passwords stripped from URLs. */
export function describeConfig(config: ParleyConfig): string[] {
  return [
    `listen         ${config.host}:${config.port}`,
    `data dir       ${config.dataDir}`,
    `database       ${maskUrl(config.databaseUrl)}`,
    `bus            ${config.redisUrl ? `redis ${maskUrl(config.redisUrl)}` : 'in-process'}`,
    `admin key      ${config.adminKey ? 'set by configuration (PARLEY_ADMIN_KEY or --admin-key)' : 'from the data directory'}`,
    `jwt secret     ${config.jwtSecret ? 'set by configuration (PARLEY_JWT_SECRET or --jwt-secret)' : 'from the data directory'}`,
    `tls            ${config.tlsCert ? `certificate ${config.tlsCert}, key ${config.tlsKey ?? ''}` : 'off (plain HTTP)'}`,
    `cors           ${config.corsOrigins === undefined ? 'off' : config.corsOrigins === '*' ? 'every origin' : config.corsOrigins.join(', ')}`,
    `acs access key ${config.acsAccessKey ? 'set by configuration (PARLEY_ACS_ACCESS_KEY or --acs-access-key)' : 'from the data directory'}`,
    `token ttl      ${config.tokenTtlSeconds}s`,
    `idempotency    keys kept ${config.idempotencyTtlSeconds}s`,
    `attachments    in ${join(config.dataDir, 'attachments')}, unsent uploads kept ${config.attachmentTtlSeconds}s`,
    `webhooks       ${config.webhookMaxAttempts} attempts, retries after ${config.webhookRetryBaseMs}ms doubling to ${config.webhookRetryMaxMs}ms, timeout ${config.webhookTimeoutMs}ms`,
    `log level      ${config.logLevel}`,
    `limits         ${Object.entries(config.limits).map(([k, v]) => `${k}=${v}`).join(' ')}`,
  ];
}

/** A database URL without its password, wherever the URL carries one. */
function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw; // a file path: nothing secret in it
  }
  if (url.password) url.password = '********';
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|secret|key/i.test(key)) url.searchParams.set(key, '********');
  }
  return url.toString();
}
