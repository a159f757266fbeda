import type { Kysely } from 'kysely';
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
  if (tokens === '') {
    await db.deleteFrom('message_search').where('message_id', '=', message.id).execute();
    return;
  }
  await upsertMessageIndex(db, message.id, tokens);
}
