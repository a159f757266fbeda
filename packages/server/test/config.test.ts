import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { DEFAULT_LIMITS, type Limits } from '@parley/protocol';
import { CONFIG_FIELDS, Secret, describeConfig, loadConfig, type ConfigField, type ParleyConfig } from '@parley/server';
import { describe, expect, it } from 'vitest';

const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];

/** camelCase → PARLEY_UPPER_SNAKE, spelled out character by character (independent of the implementation). */
function expectedEnv(name: string): string {
  let out = 'PARLEY_';
  for (const ch of name) out += ch >= 'A' && ch <= 'Z' ? `_${ch}` : ch.toUpperCase();
  return out;
}

/** What `loadConfig` produced for a field, secrets revealed. */
function valueOf(config: ParleyConfig, name: string): unknown {
  const v = (LIMIT_NAMES as string[]).includes(name)
    ? config.limits[name as keyof Limits]
    : (config as unknown as Record<string, unknown>)[name];
  return v instanceof Secret ? v.reveal() : v;
}

/** A valid, non-default raw value for a field, and the value the config should then hold. */
function sample(f: ConfigField, variant: 1 | 2): { raw: string; expected: unknown } {
  switch (f.kind) {
    case 'int': {
      const n = Number(f.default) + variant; // default + 1/2 keeps defaultPageSize ≤ maxPageSize
      return { raw: String(n), expected: n };
    }
    case 'enum': {
      const v = variant === 1 ? 'debug' : 'warn';
      return { raw: v, expected: v };
    }
    case 'secret': {
      const v = `${f.name}-secret-value-${variant}-xxxxxxxx`;
      return { raw: v, expected: v };
    }
    default: {
      if (f.name === 'corsOrigins') return { raw: `https://app${variant}.example.test`, expected: [`https://app${variant}.example.test`] };
      const v = f.name === 'dataDir' ? `/srv/parley-${variant}` : f.name === 'host' ? `10.0.0.${variant}` : `/var/lib/parley-${variant}.db`;
      return { raw: v, expected: f.name === 'dataDir' ? resolve(v) : v };
    }
  }
}

/** Runs loadConfig expecting it to throw, and returns the message. */
function loadError(env: Record<string, string>, flags: Record<string, string | number> = {}): string {
  try {
    loadConfig(env, flags);
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('CONFIG_FIELDS', () => {
  it('lists every setting and every limit exactly once', () => {
    const names = CONFIG_FIELDS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    const settings = Object.keys(loadConfig({})).filter((k) => k !== 'limits');
    expect([...names].sort()).toEqual([...settings, ...LIMIT_NAMES].sort());
  });

  it.each(CONFIG_FIELDS.map((f) => [f.name, f] as const))('%s maps to PARLEY_<UPPER_SNAKE> and a kebab flag', (_name, f) => {
    expect(f.env).toBe(expectedEnv(f.name));
    expect(f.flag).toBe(`--${expectedEnv(f.name).slice('PARLEY_'.length).toLowerCase().replaceAll('_', '-')}`);
  });

  it.each([
    ['maxMessageLength', 'PARLEY_MAX_MESSAGE_LENGTH', '--max-message-length'],
    ['databaseUrl', 'PARLEY_DATABASE_URL', '--database-url'],
    ['tokenTtlSeconds', 'PARLEY_TOKEN_TTL_SECONDS', '--token-ttl-seconds'],
    ['port', 'PARLEY_PORT', '--port'],
    ['jwtSecret', 'PARLEY_JWT_SECRET', '--jwt-secret'],
  ])('spells %s as %s and %s', (name, env, flag) => {
    expect(CONFIG_FIELDS.find((f) => f.name === name)).toMatchObject({ env, flag });
  });

  it('documents limit defaults as the protocol defaults', () => {
    for (const name of LIMIT_NAMES) {
      expect(CONFIG_FIELDS.find((f) => f.name === name)?.default).toBe(String(DEFAULT_LIMITS[name]));
    }
  });
});

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  it('has the documented defaults', () => {
    const dataDir = resolve('./.parley');
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir,
      databaseUrl: join(dataDir, 'parley.db'),
      adminKey: undefined,
      jwtSecret: undefined,
      tokenTtlSeconds: 3600,
      logLevel: 'info',
    });
    expect(config.limits).toEqual({ ...DEFAULT_LIMITS });
  });

  it.each(CONFIG_FIELDS.filter((f) => f.kind === 'int' || f.kind === 'enum').map((f) => [f.name, f] as const))(
    '%s defaults to the value CONFIG_FIELDS documents',
    (_name, f) => {
      expect(valueOf(config, f.name)).toBe(f.kind === 'int' ? Number(f.default) : f.default);
    },
  );

  it('treats empty variables as unset', () => {
    const env = Object.fromEntries(CONFIG_FIELDS.map((f) => [f.env, '']));
    expect(loadConfig(env)).toEqual(config);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PARLEY_NOT_A_SETTING: 'x', PORT: '1', HOME: '/root' })).toEqual(config);
  });

  it('puts the database in the data directory unless told otherwise', () => {
    expect(loadConfig({ PARLEY_DATA_DIR: '/srv/p' }).databaseUrl).toBe(join('/srv/p', 'parley.db'));
    expect(loadConfig({ PARLEY_DATA_DIR: '/srv/p', PARLEY_DATABASE_URL: '/elsewhere.db' }).databaseUrl).toBe('/elsewhere.db');
  });

  it('resolves a relative data directory to an absolute path', () => {
    expect(loadConfig({ PARLEY_DATA_DIR: 'rel/dir' }).dataDir).toBe(resolve('rel/dir'));
  });
});

describe('loadConfig from the environment and flags', () => {
  describe.each(CONFIG_FIELDS.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    it(`reads ${f.env}`, () => {
      const { raw, expected } = sample(f, 1);
      expect(valueOf(loadConfig({ [f.env]: raw }), f.name)).toEqual(expected);
    });

    it(`reads the flag ${f.flag}`, () => {
      const { raw, expected } = sample(f, 2);
      expect(valueOf(loadConfig({}, { [f.name]: raw }), f.name)).toEqual(expected);
    });

    it('lets the flag win over the environment', () => {
      const fromEnv = sample(f, 1);
      const fromFlag = sample(f, 2);
      expect(valueOf(loadConfig({ [f.env]: fromEnv.raw }, { [f.name]: fromFlag.raw }), f.name)).toEqual(fromFlag.expected);
    });
  });

  it('accepts numeric flags', () => {
    expect(loadConfig({ PARLEY_PORT: '9000' }, { port: 0 }).port).toBe(0);
    expect(loadConfig({}, { maxPageSize: 500 }).limits.maxPageSize).toBe(500);
  });

  it('accepts the edges of each range', () => {
    expect(loadConfig({ PARLEY_PORT: '0' }).port).toBe(0);
    expect(loadConfig({ PARLEY_PORT: '65535' }).port).toBe(65535);
    expect(loadConfig({ PARLEY_TOKEN_TTL_SECONDS: '60' }).tokenTtlSeconds).toBe(60);
    expect(loadConfig({ PARLEY_TOKEN_TTL_SECONDS: '31536000' }).tokenTtlSeconds).toBe(31_536_000);
    expect(loadConfig({ PARLEY_MAX_MESSAGE_LENGTH: '1' }).limits.maxMessageLength).toBe(1);
    expect(loadConfig({ PARLEY_MAX_BODY_BYTES: String(2 ** 31 - 1) }).limits.maxBodyBytes).toBe(2 ** 31 - 1);
    expect(loadConfig({ PARLEY_DEFAULT_PAGE_SIZE: '200', PARLEY_MAX_PAGE_SIZE: '200' }).limits.defaultPageSize).toBe(200);
  });

  it('accepts a secret of exactly 16 characters', () => {
    expect(loadConfig({ PARLEY_ADMIN_KEY: 'x'.repeat(16) }).adminKey?.reveal()).toBe('x'.repeat(16));
  });

  it('accepts every log level', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
      expect(loadConfig({ PARLEY_LOG_LEVEL: level }).logLevel).toBe(level);
    }
  });
});

describe('the configuration is frozen', () => {
  const config = loadConfig({ PARLEY_ADMIN_KEY: 'a'.repeat(20) });

  it('freezes the object and its limits', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
  });

  it('refuses writes (ES modules run in strict mode)', () => {
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.limits as Limits).maxPageSize = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(8080);
    expect(config.limits.maxPageSize).toBe(DEFAULT_LIMITS.maxPageSize);
  });

  it('does not share or alter the protocol defaults', () => {
    const changed = loadConfig({ PARLEY_MAX_PAGE_SIZE: '300' });
    expect(changed.limits.maxPageSize).toBe(300);
    expect(DEFAULT_LIMITS.maxPageSize).toBe(200);
  });
});

describe('invalid configuration', () => {
  it.each([
    ['PARLEY_PORT', 'abc'],
    ['PARLEY_PORT', '80.5'],
    ['PARLEY_PORT', '1e3'],
    ['PARLEY_PORT', '0x50'],
    ['PARLEY_PORT', '-1'],
    ['PARLEY_PORT', '65536'],
    ['PARLEY_PORT', '99999999999999999999'],
    ['PARLEY_TOKEN_TTL_SECONDS', '59'],
    ['PARLEY_TOKEN_TTL_SECONDS', '31536001'],
    ['PARLEY_MAX_PAGE_SIZE', '0'],
    ['PARLEY_MAX_MESSAGE_LENGTH', '2147483648'],
    ['PARLEY_LOG_LEVEL', 'verbose'],
    ['PARLEY_LOG_LEVEL', 'INFO'],
    ['PARLEY_ADMIN_KEY', 'x'.repeat(15)],
    ['PARLEY_JWT_SECRET', 'short'],
  ])('refuses %s=%j, naming it', (env, raw) => {
    expect(loadError({ [env]: raw })).toContain(env);
  });

  it('refuses a default page size above the maximum', () => {
    const message = loadError({ PARLEY_DEFAULT_PAGE_SIZE: '300' }); // default max is 200
    expect(message).toContain('PARLEY_DEFAULT_PAGE_SIZE');
    expect(message).toContain('PARLEY_MAX_PAGE_SIZE');
    expect(loadError({ PARLEY_MAX_PAGE_SIZE: '10' })).toContain('PARLEY_DEFAULT_PAGE_SIZE'); // default 50 > 10
  });

  it('throws ONE error that lists every bad variable', () => {
    const bad = {
      PARLEY_PORT: 'eighty',
      PARLEY_TOKEN_TTL_SECONDS: '5',
      PARLEY_LOG_LEVEL: 'loud',
      PARLEY_ADMIN_KEY: 'tiny',
      PARLEY_JWT_SECRET: 'also-tiny',
      PARLEY_MAX_MESSAGE_LENGTH: '-3',
      PARLEY_MAX_METADATA_BYTES: '1.5',
    };
    const message = loadError({ ...bad, PARLEY_DEFAULT_PAGE_SIZE: '500', PARLEY_HOST: '0.0.0.0' });
    for (const name of Object.keys(bad)) expect(message).toContain(name);
    expect(message).toContain('PARLEY_DEFAULT_PAGE_SIZE');
    expect(message).not.toContain('PARLEY_HOST');
    // One line per problem.
    expect(message.split('\n').filter((l) => l.trim().startsWith('-'))).toHaveLength(Object.keys(bad).length + 1);
  });

  it('names the flag when a flag is bad', () => {
    const message = loadError({ PARLEY_PORT: '9000' }, { port: 'nope', logLevel: 'loud' });
    expect(message).toContain('--port');
    expect(message).toContain('--log-level');
  });

  it('never echoes a rejected secret', () => {
    const message = loadError({ PARLEY_ADMIN_KEY: 'hunter2-secret' });
    expect(message).not.toContain('hunter2-secret');
  });
});

describe('secrets are masked', () => {
  const ADMIN = 'admin-key-value-0123456789';
  const JWT = 'jwt-secret-value-0123456789';
  const config = loadConfig({ PARLEY_ADMIN_KEY: ADMIN, PARLEY_JWT_SECRET: JWT });

  it('keeps the values behind Secret.reveal()', () => {
    expect(config.adminKey).toBeInstanceOf(Secret);
    expect(config.adminKey?.reveal()).toBe(ADMIN);
    expect(config.jwtSecret?.reveal()).toBe(JWT);
  });

  it('in describeConfig', () => {
    const text = describeConfig(config).join('\n');
    expect(text).not.toContain(ADMIN);
    expect(text).not.toContain(JWT);
    expect(text).toContain('PARLEY_ADMIN_KEY');
  });

  it('in JSON.stringify', () => {
    const json = JSON.stringify(config);
    expect(json).not.toContain(ADMIN);
    expect(json).not.toContain(JWT);
    expect(JSON.parse(json)).toMatchObject({ adminKey: '********', jwtSecret: '********' });
  });

  it('in util.inspect and string conversion', () => {
    for (const text of [inspect(config), inspect(config, { depth: Infinity, showHidden: true }), inspect(config.adminKey)]) {
      expect(text).not.toContain(ADMIN);
      expect(text).not.toContain(JWT);
    }
    expect(inspect(config.adminKey)).toBe('Secret(********)');
    expect(String(config.adminKey)).toBe('********');
    expect(`${config.jwtSecret}`).toBe('********');
    expect(Object.keys(config.adminKey!)).toEqual([]);
  });

  it('describes where the secrets come from when unset', () => {
    const text = describeConfig(loadConfig({})).join('\n');
    expect(text).toMatch(/admin key\s+from the data directory/);
    expect(text).toMatch(/jwt secret\s+from the data directory/);
  });
});

describe('describeConfig', () => {
  it('masks the password of a postgres URL and keeps the rest', () => {
    const url = 'postgres://parley:s3cr3t-pa55@db.internal:5432/parley?sslmode=require';
    const text = describeConfig(loadConfig({ PARLEY_DATABASE_URL: url })).join('\n');
    expect(text).not.toContain('s3cr3t-pa55');
    expect(text).toContain('postgres://parley:********@db.internal:5432/parley?sslmode=require');
  });

  it('masks a postgresql:// URL password too', () => {
    const text = describeConfig(loadConfig({ PARLEY_DATABASE_URL: 'postgresql://u:pw-secret@h/db' })).join('\n');
    expect(text).not.toContain('pw-secret');
    expect(text).toContain('postgresql://u:********@h/db');
  });

  it('leaves a URL without a password and a file path as they are', () => {
    expect(describeConfig(loadConfig({ PARLEY_DATABASE_URL: 'postgres://parley@db/parley' })).join('\n')).toContain(
      'postgres://parley@db/parley',
    );
    expect(describeConfig(loadConfig({ PARLEY_DATABASE_URL: '/var/lib/parley.db' })).join('\n')).toContain('/var/lib/parley.db');
  });

  it('lists listen address, data dir, token ttl and every limit', () => {
    const config = loadConfig({ PARLEY_HOST: '0.0.0.0', PARLEY_PORT: '9999', PARLEY_DATA_DIR: '/srv/x', PARLEY_MAX_PAGE_SIZE: '321' });
    const text = describeConfig(config).join('\n');
    expect(text).toContain('0.0.0.0:9999');
    expect(text).toContain('/srv/x');
    expect(text).toContain('3600s');
    for (const name of LIMIT_NAMES) expect(text).toContain(`${name}=${config.limits[name]}`);
  });

  // node-postgres (pg-connection-string) accepts each of these forms, so each must be masked: a regex
  // mask that needs a non-empty user and stops at the first "@" let all three reach the start-up log.
  it.each([
    ['a raw "@" in the password', 'postgres://parley:hunter2@x9-secret@db/parley', ['hunter2@x9-secret', 'x9-secret']],
    ['an empty user name', 'postgres://:hunter2-secret@db/parley', ['hunter2-secret']],
    ['a password query parameter', 'postgres://parley@db/parley?password=hunter2-secret', ['hunter2-secret']],
  ])('masks the password of a postgres URL with %s', (_what, url, fragments) => {
    const text = describeConfig(loadConfig({ PARLEY_DATABASE_URL: url })).join('\n');
    for (const fragment of fragments) expect(text).not.toContain(fragment);
  });
});
