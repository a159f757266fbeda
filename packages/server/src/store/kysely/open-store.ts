import { Kysely } from 'kysely';
import type { Store } from '../store.js';
import { createPostgresDialect } from './dialects/postgres.js';
import { createSqliteDialect } from './dialects/sqlite.js';
import { KyselyStore } from './kysely-store.js';
import type { Database } from './schema.js';

export interface OpenStoreOptions {
  /** `postgres://…` / `postgresql://…`, or a SQLite file path (optionally `sqlite:` prefixed), or `:memory:`. */
  url: string;
  /** PostgreSQL only: use this schema (created if missing). */
  schema?: string;
  /** PostgreSQL only: drop the schema on close (test isolation). */
  dropSchemaOnClose?: boolean;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** Opens the store named by `url` and brings its schema up to date. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const seam = isPostgresUrl(options.url)
    ? createPostgresDialect({
        url: options.url,
        ...(options.schema !== undefined ? { schema: options.schema } : {}),
        ...(options.dropSchemaOnClose !== undefined ? { dropSchemaOnClose: options.dropSchemaOnClose } : {}),
      })
    : createSqliteDialect(options.url.replace(/^sqlite:(\/\/)?/, ''));
  const store = new KyselyStore(new Kysely<Database>({ dialect: seam.kyselyDialect }), seam);
  if (options.migrate !== false) {
    try {
      await store.migrate();
      await store.catchUpSearchIndex();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
