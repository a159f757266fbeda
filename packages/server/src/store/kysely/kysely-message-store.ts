import type { Kysely } from 'kysely';
import type { ConversationId, EventRecord, MessageId, MessageRecord, Visibility } from '../../domain/index.js';
import type { EventQuery, EventStore, MessagePatch, MessageQuery, MessageStore } from '../store.js';
import type { Database } from './schema.js';
import { eventFromRow, eventToRow, messageFromRow, messageToRow } from './rows.js';
import type { Guard } from './guard.js';
import { atomically, writeMessageIndex } from './search-index.js';
import { insertRow } from './prepared-query.js';

// The two inserts of every message send, compiled once (see preparedQuery).
const insertMessage = insertRow('messages', [
  'id', 'conversation_id', 'seq', 'type', 'content', 'sender_id', 'sender_display_name', 'metadata', 'share', 'system',
  'visible_to', 'attachments', 'mentions', 'version', 'created_at', 'edited_at', 'deleted_at',
]);
const insertEvent = insertRow('events', [
  'id', 'conversation_id', 'seq', 'type', 'actor_id', 'created_at', 'data', 'message_id', 'visible_to', 'author_id', 'history_at',
]);

export class KyselyMessageStore implements MessageStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  async append(message: MessageRecord): Promise<void> {
    await atomically(this.db, async (db) => {
      await this.guard('messages.seq', () => insertMessage(db, messageToRow(message)));
      await writeMessageIndex(db, message);
    });
  }

  async get(conversationId: ConversationId, id: MessageId): Promise<MessageRecord | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', id)
      .where('conversation_id', '=', conversationId)
      .executeTakeFirst();
    return row && messageFromRow(row);
  }

  async update(id: MessageId, patch: MessagePatch): Promise<void> {
    const row: Partial<Database['messages']> = {};
    if (patch.content !== undefined) row.content = patch.content;
    if (patch.metadata !== undefined) row.metadata = JSON.stringify(patch.metadata);
    if (patch.share !== undefined) row.share = patch.share === null ? null : JSON.stringify(patch.share);
    if (patch.attachments !== undefined) row.attachments = JSON.stringify(patch.attachments);
    if (patch.mentions !== undefined) row.mentions = JSON.stringify(patch.mentions);
    if (patch.version !== undefined) row.version = patch.version;
    if (patch.editedAt !== undefined) row.edited_at = patch.editedAt;
    if (patch.deletedAt !== undefined) row.deleted_at = patch.deletedAt;
    if (Object.keys(row).length === 0) return;
    await atomically(this.db, async (db) => {
      await db.updateTable('messages').set(row).where('id', '=', id).execute();
      // What search sees changed: index the message as it now is.
      if (row.content !== undefined || row.deleted_at !== undefined || row.attachments !== undefined) {
        const current = await db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
        if (current) await writeMessageIndex(db, messageFromRow(current));
      }
    });
  }

  async listPage(conversationId: ConversationId, query: MessageQuery): Promise<MessageRecord[]> {
    const { viewer } = query;
    let q = this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where((eb) =>
        eb.or([eb('visible_to', 'is', null), eb('visible_to', '=', viewer.userId), eb('sender_id', '=', viewer.userId)]),
      );
    if (viewer.historyFrom !== null) q = q.where('created_at', '>=', viewer.historyFrom);
    if (query.beforeSeq !== undefined) q = q.where('seq', '<', query.beforeSeq);
    if (query.afterSeq !== undefined) q = q.where('seq', '>', query.afterSeq);
    if (query.startTime !== undefined) q = q.where('created_at', '>=', query.startTime);
    const rows = await q.orderBy('seq', query.order).limit(query.limit).execute();
    return rows.map(messageFromRow);
  }

  async countUnread(conversationId: ConversationId, viewer: Visibility, afterSeq: number): Promise<number> {
    let q = this.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('conversation_id', '=', conversationId)
      .where('seq', '>', afterSeq)
      .where('sender_id', '!=', viewer.userId)
      .where('deleted_at', 'is', null)
      .where('type', '!=', 'system')
      .where((eb) => eb.or([eb('visible_to', 'is', null), eb('visible_to', '=', viewer.userId)]));
    if (viewer.historyFrom !== null) q = q.where('created_at', '>=', viewer.historyFrom);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }
}

export class KyselyEventStore implements EventStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  async append(event: EventRecord): Promise<void> {
    await this.guard('events.seq', () => insertEvent(this.db, eventToRow(event)));
  }

  async listAfter(conversationId: ConversationId, query: EventQuery): Promise<EventRecord[]> {
    const { viewer } = query;
    let q = this.db.selectFrom('events').selectAll().where('conversation_id', '=', conversationId).where('seq', '>', query.afterSeq);
    if (viewer) {
      q = q.where((eb) =>
        eb.or([
          eb('visible_to', 'is', null),
          eb('visible_to', '=', viewer.userId),
          eb('actor_id', '=', viewer.userId),
          eb('author_id', '=', viewer.userId),
        ]),
      );
      if (viewer.historyFrom !== null) q = q.where('history_at', '>=', viewer.historyFrom);
    }
    if (query.sinceTime !== undefined) q = q.where('created_at', '>=', query.sinceTime);
    if (query.uptoSeq !== undefined) q = q.where('seq', '<=', query.uptoSeq);
    const rows = await q.orderBy('seq').limit(query.limit).execute();
    return rows.map(eventFromRow);
  }

  async rewriteMessageData(messageId: MessageId, data: string): Promise<void> {
    await this.db.updateTable('events').set({ data }).where('message_id', '=', messageId).execute();
  }
}
