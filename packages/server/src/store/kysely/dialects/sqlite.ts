import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import type { StoreDialect } from './store-dialect.js';

/** SQLite through better-sqlite3, in WAL mode: the embedded default. */
export function createSqliteDialect(path: string): StoreDialect {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return {
    name: 'sqlite',
    kyselyDialect: new SqliteDialect({ database: db }),
    isUniqueViolation: (err) =>
      typeof err === 'object' &&
      err !== null &&
      'code' in err &&
      (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'),
  };
}
