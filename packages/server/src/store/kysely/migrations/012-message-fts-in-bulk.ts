import { PostgresAdapter, sql, type Kysely } from 'kysely';

// SQLite: a new message_search row gets its FTS5 entry from the code that inserts it, many rows in one
// statement (writeMessageIndexes in search-index.ts), no longer from a trigger per row: with the trigger,
// FTS5 wrote each message out as a segment of its own. The triggers on update and delete stay.
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`DROP TRIGGER message_search_ai`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`CREATE TRIGGER message_search_ai AFTER INSERT ON message_search BEGIN
    INSERT INTO message_fts(rowid, tokens) VALUES (new.fts_id, new.tokens);
  END`.execute(db);
}
