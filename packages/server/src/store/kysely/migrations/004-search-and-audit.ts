import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { labelString, searchableText, tokenString } from '../../../domain/search-text.js';

// Search indexes and the audit log.
//
// Both databases keep the same token strings (made by domain/search-text: folded, CJK as bigrams), so
// they find and rank alike; only the index over them differs. SQLite: FTS5 tables over the token
// tables (external content, kept in step by triggers), with the `ascii` tokenizer, which splits on
// ASCII spaces and punctuation only and so keeps our tokens as they are. PostgreSQL: a tsvector made
// from the tokens as lexemes (no text-search configuration, no extension), with a GIN index. The index
// only narrows the candidates: the exact match and the rank are computed from the token strings.
//
// The backfill below tokenises with today's rules; a change to them needs a migration that re-indexes.

const BATCH = 500;

async function createSqliteIndexes(db: Kysely<unknown>): Promise<void> {
  const statements = [
    `CREATE TABLE room_search (
       fts_id INTEGER PRIMARY KEY,
       conversation_id TEXT NOT NULL UNIQUE,
       title TEXT NOT NULL, description TEXT NOT NULL, keywords TEXT NOT NULL, labels TEXT NOT NULL)`,
    `CREATE VIRTUAL TABLE room_fts USING fts5(title, description, keywords,
       content='room_search', content_rowid='fts_id', tokenize='ascii')`,
    `CREATE TRIGGER room_search_ai AFTER INSERT ON room_search BEGIN
       INSERT INTO room_fts(rowid, title, description, keywords) VALUES (new.fts_id, new.title, new.description, new.keywords);
     END`,
    `CREATE TRIGGER room_search_ad AFTER DELETE ON room_search BEGIN
       INSERT INTO room_fts(room_fts, rowid, title, description, keywords) VALUES ('delete', old.fts_id, old.title, old.description, old.keywords);
     END`,
    `CREATE TRIGGER room_search_au AFTER UPDATE ON room_search BEGIN
       INSERT INTO room_fts(room_fts, rowid, title, description, keywords) VALUES ('delete', old.fts_id, old.title, old.description, old.keywords);
       INSERT INTO room_fts(rowid, title, description, keywords) VALUES (new.fts_id, new.title, new.description, new.keywords);
     END`,
    `CREATE TABLE message_search (
       fts_id INTEGER PRIMARY KEY,
       message_id TEXT NOT NULL UNIQUE,
       tokens TEXT NOT NULL)`,
    `CREATE VIRTUAL TABLE message_fts USING fts5(tokens, content='message_search', content_rowid='fts_id', tokenize='ascii')`,
    `CREATE TRIGGER message_search_ai AFTER INSERT ON message_search BEGIN
       INSERT INTO message_fts(rowid, tokens) VALUES (new.fts_id, new.tokens);
     END`,
    `CREATE TRIGGER message_search_ad AFTER DELETE ON message_search BEGIN
       INSERT INTO message_fts(message_fts, rowid, tokens) VALUES ('delete', old.fts_id, old.tokens);
     END`,
    `CREATE TRIGGER message_search_au AFTER UPDATE ON message_search BEGIN
       INSERT INTO message_fts(message_fts, rowid, tokens) VALUES ('delete', old.fts_id, old.tokens);
       INSERT INTO message_fts(rowid, tokens) VALUES (new.fts_id, new.tokens);
     END`,
  ];
  for (const s of statements) await sql.raw(s).execute(db);
}

async function createPostgresIndexes(db: Kysely<unknown>): Promise<void> {
  // Token strings are space-padded and space-separated; the lexemes are the tokens themselves.
  const lexemes = (expr: string) => `array_to_tsvector(string_to_array(btrim(regexp_replace(${expr}, ' +', ' ', 'g')), ' '))`;
  const statements = [
    `CREATE TABLE room_search (
       conversation_id text PRIMARY KEY,
       title text NOT NULL, description text NOT NULL, keywords text NOT NULL, labels text NOT NULL,
       tsv tsvector GENERATED ALWAYS AS (${lexemes(`title || ' ' || description || ' ' || keywords`)}) STORED)`,
    'CREATE INDEX room_search_tsv ON room_search USING gin (tsv)',
    `CREATE TABLE message_search (
       message_id text PRIMARY KEY,
       tokens text NOT NULL,
       tsv tsvector GENERATED ALWAYS AS (${lexemes('tokens')}) STORED)`,
    'CREATE INDEX message_search_tsv ON message_search USING gin (tsv)',
  ];
  for (const s of statements) await sql.raw(s).execute(db);
}

interface RoomRow {
  id: string;
  title: string | null;
  description: string;
  keywords: string;
}
interface MessageRow {
  id: string;
  type: string;
  content: string;
}

async function backfill(db: Kysely<unknown>): Promise<void> {
  const any = db as Kysely<Record<string, Record<string, unknown>>>;
  for (let after = ''; ; ) {
    const rooms = (await any
      .selectFrom('conversations')
      .select(['id', 'title', 'description', 'keywords'])
      .where('kind', '=', 'room')
      .where('deleted_at', 'is', null)
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute()) as unknown as RoomRow[];
    if (rooms.length === 0) break;
    await any
      .insertInto('room_search')
      .values(
        rooms.map((r) => {
          const keywords = JSON.parse(r.keywords) as string[];
          return {
            conversation_id: r.id,
            title: tokenString(r.title ?? ''),
            description: tokenString(r.description),
            keywords: tokenString(keywords.join('\n')),
            labels: labelString(keywords),
          };
        }),
      )
      .execute();
    after = rooms.at(-1)!.id;
  }
  for (let after = ''; ; ) {
    const messages = (await any
      .selectFrom('messages')
      .select(['id', 'type', 'content'])
      .where('deleted_at', 'is', null)
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute()) as unknown as MessageRow[];
    if (messages.length === 0) break;
    const rows = messages
      .map((m) => ({ message_id: m.id, tokens: tokenString(searchableText(m)) }))
      .filter((r) => r.tokens !== '');
    if (rows.length > 0) await any.insertInto('message_search').values(rows).execute();
    after = messages.at(-1)!.id;
  }
}

export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) await createPostgresIndexes(db);
  else await createSqliteIndexes(db);
  await backfill(db);

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor_id', 'id']).execute();
  await db.schema.createIndex('audit_log_target').on('audit_log').columns(['target_id', 'id']).execute();
  await db.schema.createIndex('audit_log_action').on('audit_log').columns(['action', 'id']).execute();

  // The admin listing sorts every conversation by these.
  await db.schema.createIndex('conversations_created').on('conversations').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('conversations_activity').on('conversations').columns(['last_activity_at', 'id']).execute();
  await db.schema.createIndex('conversations_updated').on('conversations').columns(['updated_at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of ['conversations_updated', 'conversations_activity', 'conversations_created']) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  await db.schema.dropTable('audit_log').ifExists().execute();
  for (const table of ['message_fts', 'message_search', 'room_fts', 'room_search']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
