import { createHash } from 'node:crypto';
import pg from 'pg';
import { PostgresDialect, sql } from 'kysely';
import type { QueryUnit } from '../../../domain/index.js';
import type { StoreDialect } from './store-dialect.js';
import { preparedSql } from '../prepared-query.js';

const lexeme = (token: string): string => `'${token.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/**
 * A tsquery over the token lexemes: every token required, the last of a prefix unit as a prefix. The
 * stored tsvector has no positions, so phrases are checked on the token strings afterwards.
 */
export function tsQuery(units: readonly QueryUnit[]): string {
  return units
    .flatMap((u) => u.tokens.map((t, i) => `${lexeme(t)}${u.prefix && i === u.tokens.length - 1 ? ':*' : ''}`))
    .join(' & ');
}

const INT8_OID = 20;

const errorCode = (err: unknown): unknown => (typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined);

export interface PostgresOptions {
  url: string;
  /** Use (and create) this schema instead of `public`; tests isolate runs this way. */
  schema?: string;
  /** Drop the schema when the store closes (tests). */
  dropSchemaOnClose?: boolean;
  poolSize?: number;
}

const statementNames = new Map<string, string>();

/**
 * Runs the store's prepared queries (see preparedQuery) as named statements on this connection:
 * PostgreSQL parses and plans each once per connection instead of at every send. Kysely passes plain
 * SQL text to `client.query`, so the name is added here.
 */
function namePreparedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]): unknown => {
    const [text, values] = args;
    if (typeof text !== 'string' || !preparedSql.has(text) || (values !== undefined && !Array.isArray(values)) || args.length > 2) {
      return query(...args);
    }
    let name = statementNames.get(text);
    if (name === undefined) {
      name = `parley_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      statementNames.set(text, name);
    }
    return query({ name, text, values: values ?? [] });
  };
}

/** PostgreSQL through node-postgres: the scale-out store. */
export function createPostgresDialect(options: PostgresOptions): StoreDialect {
  const { schema } = options;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`Invalid PostgreSQL schema name: ${schema}`);
  }
  // Times and seqs are bigint columns; they fit in a double for the next 280,000 years.
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types: types as pg.CustomTypesConfig,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  pool.on('connect', (client) => namePreparedStatements(client));
  const admin = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: options.url });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  return {
    name: 'postgres',
    kyselyDialect: new PostgresDialect({ pool }),
    currentSchema: async () => {
      const result = await pool.query<{ schema: string }>('select current_schema() as schema');
      const current = result.rows[0]?.schema;
      if (!current) throw new Error('PostgreSQL has no current schema: check search_path');
      return current;
    },
    isUniqueViolation: (err) => errorCode(err) === '23505',
    // deadlock_detected, serialization_failure
    isTransient: (err) => errorCode(err) === '40P01' || errorCode(err) === '40001',
    fullTextMatch: (_table, alias, units) => sql<boolean>`${sql.ref(`${alias}.tsv`)} @@ ${tsQuery(units)}::tsquery`,
    position: (haystack, needle) => sql<number>`strpos(${haystack}, ${needle})`,
    ...(schema !== undefined
      ? {
          prepare: () => admin(`CREATE SCHEMA IF NOT EXISTS ${schema}`),
          ...(options.dropSchemaOnClose ? { dispose: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) } : {}),
        }
      : {}),
  };
}
