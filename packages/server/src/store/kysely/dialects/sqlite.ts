import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import type { QueryUnit } from '../../../domain/index.js';
import { startCheckpointer, type Checkpointer } from './sqlite-checkpointer.js';
import type { StoreDialect } from './store-dialect.js';

const FTS_TABLES = { room_search: 'room_fts', message_search: 'message_fts' } as const;

/** An FTS5 query: each unit a phrase (a trailing `*` makes its last token a prefix), all required. */
export function fts5Query(units: readonly QueryUnit[]): string {
  return units.map((u) => `"${u.tokens.join(' ').replace(/"/g, '""')}"${u.prefix ? '*' : ''}`).join(' AND ');
}

/** SQLite through better-sqlite3, in WAL mode: the embedded default. */
export function createSqliteDialect(path: string): StoreDialect {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Savepoints (one per transaction in a group commit) keep their undo pages in a sub-journal: in
  // memory that costs nothing, in a temporary file it cost about a fifth of a message send.
  db.pragma('temp_store = MEMORY');
  // Reads of a long history (a page at any depth of a conversation of millions) go through the OS's page
  // cache by memory mapping instead of a read call per page, and keep more of the hot index pages in
  // SQLite's own cache than its 2 MB default.
  db.pragma(`mmap_size = ${MMAP_BYTES}`);
  db.pragma(`cache_size = -${CACHE_KIB}`);
  const checkpointer = path === ':memory:' ? undefined : checkpointBesideTheLoop(db, path);
  const cached = withStatementCache(db);
  const runDirect = (sql: string, parameters: readonly unknown[]): unknown[] => {
    const statement = cached.prepare(sql);
    if (statement.reader) return statement.all(parameters);
    statement.run(parameters);
    return [];
  };
  return {
    name: 'sqlite',
    ...(checkpointer ? { beforeClose: () => checkpointer.stop() } : {}),
    kyselyDialect: new ImmediateSqliteDialect({ database: cached }),
    execDirect: (sql) => void runDirect(sql, []),
    runDirect,
    isUniqueViolation: (err) =>
      typeof err === 'object' &&
      err !== null &&
      'code' in err &&
      (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'),
    fullTextMatch: (table, alias, units) =>
      sql<boolean>`${sql.ref(`${alias}.fts_id`)} in (select rowid from ${sql.table(FTS_TABLES[table])} where ${sql.table(FTS_TABLES[table])} match ${fts5Query(units)})`,
    position: (haystack, needle) => sql<number>`instr(${haystack}, ${needle})`,
  };
}

// SQLite's own threshold for its automatic checkpoint, kept: pages written again before a checkpoint are
// copied once, so fewer, larger checkpoints write less.
const CHECKPOINT_FRAMES = 1000;
// Bounds the WAL under steady writes (see the checkpointer), and the file once a writer starts it over.
const MAX_WAL_BYTES = 64 * 1024 * 1024;
const CHECKPOINT_INTERVAL_MS = 25;

/** Hands checkpoints to a thread of their own (see startCheckpointer); SQLite's automatic ones come back if it fails. */
function checkpointBesideTheLoop(db: Database.Database, path: string): Checkpointer {
  db.pragma('wal_autocheckpoint = 0');
  db.pragma(`journal_size_limit = ${MAX_WAL_BYTES}`);
  return startCheckpointer({
    path,
    frames: CHECKPOINT_FRAMES,
    maxWalBytes: MAX_WAL_BYTES,
    intervalMs: CHECKPOINT_INTERVAL_MS,
    onError: (err) => {
      if (db.open) db.pragma(`wal_autocheckpoint = ${CHECKPOINT_FRAMES}`);
      process.emitWarning(err);
    },
  });
}

/**
 * Transactions begin IMMEDIATE: they take the write lock at BEGIN, waiting for it (busy_timeout) when
 * another connection holds it, the checkpointer's RESTART or another process. A deferred transaction
 * takes it at its first write, after its first read; SQLite cannot wait there (the reader might hold
 * what the writer waits for), so it fails at once with SQLITE_BUSY.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly driverConfig: SqliteDialectConfig) {
    super(driverConfig);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.driverConfig);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

const STATEMENT_CACHE_SIZE = 500;
const MMAP_BYTES = 1024 * 1024 * 1024;
const CACHE_KIB = 64 * 1024;

/** A prepared statement as Kysely's SQLite driver and runDirect use it. */
interface CachedStatement {
  readonly reader: boolean;
  readonly busy: boolean;
  all(parameters: readonly unknown[]): unknown[];
  run(parameters: readonly unknown[]): Database.RunResult;
  iterate(parameters: readonly unknown[]): IterableIterator<unknown>;
}

/**
 * A statement whose rows come back as arrays (better-sqlite3's raw mode) and are made objects here.
 * better-sqlite3 builds each row object in C++, one named property at a time, the column names made
 * JavaScript strings again for every row: twice the time of its raw arrays plus this loop, whose objects
 * all take one shape (a page of 50 messages 178 → 110 µs, a send's access row of 35 columns 8 → 4 µs).
 */
function objectRows(statement: Database.Statement): CachedStatement {
  if (!statement.reader) return statement;
  const names = statement.columns().map((column) => column.name);
  statement.raw(true);
  const toObject = (values: unknown[]): Record<string, unknown> => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
    return row;
  };
  return {
    reader: true,
    get busy() {
      return statement.busy;
    },
    all: (parameters) => (statement.all(parameters) as unknown[][]).map(toObject),
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const values of statement.iterate(parameters) as IterableIterator<unknown[]>) yield toObject(values);
    },
  };
}

/**
 * Kysely prepares every query it runs; preparing cost 14% of the server's time under load (see
 * docs/benchmarks.md). The queries repeat, so their statements are kept, the oldest dropped first when
 * the cache is full (a hit does not reorder the cache: that was two more hashes of the SQL text per
 * query, and a dropped statement costs only one prepare). A statement still iterating (a streamed
 * query) is busy: that SQL gets a fresh one instead.
 */
function withStatementCache(db: Database.Database): { prepare(sql: string): CachedStatement; close(): void } {
  const cache = new Map<string, CachedStatement>();
  return {
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = objectRows(db.prepare(sql));
      if (!cached) {
        cache.set(sql, statement);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      return statement;
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}
