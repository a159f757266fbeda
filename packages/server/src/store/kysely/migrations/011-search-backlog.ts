import { PostgresAdapter, sql, type Kysely } from 'kysely';

// SQLite indexes new messages for search after their send commits, many at a time (see
// search-backlog.ts). This row says how far it got: every message whose rowid is at most
// `indexed_rowid` is in the index. Messages are never deleted as rows (a delete is a tombstone), so
// rowids only grow and what lies above the mark is exactly what is still to index, after a crash too.
// PostgreSQL indexes each message in its send's statement and has no backlog.
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`CREATE TABLE search_backlog (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_rowid INTEGER NOT NULL)`.execute(db);
  // Every message written before this migration was indexed in its own transaction.
  await sql`INSERT INTO search_backlog (id, indexed_rowid) SELECT 1, coalesce(max(rowid), 0) FROM messages`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`DROP TABLE search_backlog`.execute(db);
}
