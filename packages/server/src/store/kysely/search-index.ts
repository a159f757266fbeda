import { CompiledQuery, SqliteAdapter, sql, type Kysely } from 'kysely';
import { labelString, searchableText, tokenString, type ConversationRecord, type MessageRecord } from '../../domain/index.js';
import type { Database } from './schema.js';
import { arg, preparedQuery } from './prepared-query.js';

// Every message send indexes its text (see preparedQuery).
const upsertMessageIndex = preparedQuery<unknown, [messageId: string, tokens: string]>((db) =>
  db
    .insertInto('message_search')
    .values({ message_id: arg<string>(0), tokens: arg<string>(1) })
    .onConflict((oc) => oc.column('message_id').doUpdateSet({ tokens: arg<string>(1) })),
);

// SQLite: the statements of writeMessageIndexes.
const updateMessageTokens = preparedQuery<unknown, [messageId: string, tokens: string]>((db) =>
  db.updateTable('message_search').set({ tokens: arg<string>(1) }).where('message_id', '=', arg<string>(0)),
);
const insertMessageTokens = preparedQuery<{ fts_id: number }, [messageId: string, tokens: string]>((db) =>
  db
    .insertInto('message_search')
    .values({ message_id: arg<string>(0), tokens: arg<string>(1) })
    .returning(sql<number>`fts_id`.as('fts_id')),
);
const deleteMessageTokens = preparedQuery<unknown, [messageId: string]>((db) => db.deleteFrom('message_search').where('message_id', '=', arg<string>(0)));
const EXISTING_MESSAGE_ENTRIES = 'select message_id from message_search where message_id in (select value from json_each(?))';
const ADD_TO_MESSAGE_FTS = 'insert into message_fts (rowid, tokens) select fts_id, tokens from message_search where fts_id in (select value from json_each(?))';

// Keeping the search tables in step with rooms and messages. The stores call these in the same
// transaction as the write they follow, so the index never disagrees with what it indexes; the one
// exception is a new message on SQLite, indexed by the search backlog after its commit (search-backlog.ts).

/** Runs `fn` in the caller's transaction, or in a new one when there is none. */
export function atomically<T>(db: Kysely<Database>, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

type IndexedRoom = Pick<ConversationRecord, 'id' | 'kind' | 'title' | 'description' | 'keywords'>;

/** Indexes a room's title, description and keywords (other kinds are not searched). */
export async function writeRoomIndex(db: Kysely<Database>, conv: IndexedRoom): Promise<void> {
  if (conv.kind !== 'room') return;
  const row = {
    conversation_id: conv.id,
    title: tokenString(conv.title ?? ''),
    description: tokenString(conv.description),
    keywords: tokenString(conv.keywords.join('\n')),
    labels: labelString(conv.keywords),
  };
  await db
    .insertInto('room_search')
    .values(row)
    .onConflict((oc) =>
      oc.column('conversation_id').doUpdateSet({
        title: row.title,
        description: row.description,
        keywords: row.keywords,
        labels: row.labels,
      }),
    )
    .execute();
}

export async function deleteRoomIndex(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('room_search').where('conversation_id', '=', id).execute();
}

type IndexedMessage = Pick<MessageRecord, 'id' | 'type' | 'content' | 'deletedAt'> & { attachments?: readonly { name: string }[] };

/** What the index keeps of a message: '' (no entry) for deleted and system messages and those without words. */
export function indexTokens(message: IndexedMessage): string {
  return message.deletedAt === null ? tokenString(searchableText(message)) : '';
}

/** Indexes a message's text; deleted and system messages, and messages without words, have no entry. */
export async function writeMessageIndex(db: Kysely<Database>, message: IndexedMessage): Promise<void> {
  const tokens = indexTokens(message);
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    await writeMessageIndexes(db, [{ id: message.id, tokens }]);
    return;
  }
  if (tokens === '') {
    await deleteMessageTokens(db, message.id);
    return;
  }
  await upsertMessageIndex(db, message.id, tokens);
}

/**
 * SQLite: sets the index entries of many messages (tokens from {@link indexTokens}; '' removes the entry),
 * in the caller's transaction. The FTS5 entries of the new rows are added by one statement at the end
 * instead of a trigger per row: FTS5 writes out the terms it holds whenever a statement with a trigger
 * begins, so with a trigger each message became a segment of its own, and indexing cost about three times
 * as much (docs/benchmarks.md). Changed and removed rows keep their triggers (migration 012).
 */
export async function writeMessageIndexes(db: Kysely<Database>, entries: readonly { id: string; tokens: string }[]): Promise<void> {
  // One entry per message, as it stands last.
  const tokensOf = new Map(entries.map((e) => [e.id, e.tokens]));
  // A message edited before the backlog reached it has its entry already; usually none has.
  const { rows } = await db.executeQuery<{ message_id: string }>(CompiledQuery.raw(EXISTING_MESSAGE_ENTRIES, [JSON.stringify([...tokensOf.keys()])]));
  const existing = new Set(rows.map((r) => r.message_id));
  const added: number[] = [];
  for (const [id, tokens] of tokensOf) {
    if (!existing.has(id)) {
      if (tokens === '') continue;
      const [row] = await insertMessageTokens(db, id, tokens);
      if (row) added.push(row.fts_id);
    } else if (tokens === '') {
      await deleteMessageTokens(db, id);
    } else {
      await updateMessageTokens(db, id, tokens);
    }
  }
  if (added.length > 0) await db.executeQuery(CompiledQuery.raw(ADD_TO_MESSAGE_FTS, [JSON.stringify(added)]));
}
