import { CompiledQuery, type Kysely } from 'kysely';
import { type ConversationId, type EventRecord, type MessageId, type MessageRecord, type Visibility } from '../../domain/index.js';
import type { EventQuery, EventStore, MessageAppend, MessagePatch, MessageQuery, MessageStore } from '../store.js';
import type { Database } from './schema.js';
import { eventFromRow, eventToRow, messageFromRow, messageToRow } from './rows.js';
import type { Guard } from './guard.js';
import type { SearchBacklog } from './search-backlog.js';
import { atomically, indexTokens, writeMessageIndex } from './search-index.js';
import { arg, insertRow, preparedQuery, preparedSql } from './prepared-query.js';
import { batcherOf, byOrdinal, type BatchedStatement } from './statement-batcher.js';
import { nextMessageSeq } from './kysely-conversation-store.js';

// The two inserts of every message send, compiled once (see preparedQuery).
const insertMessage = insertRow('messages', [
  'id', 'conversation_id', 'seq', 'type', 'content', 'sender_id', 'sender_display_name', 'metadata', 'share', 'system',
  'visible_to', 'attachments', 'mentions', 'version', 'created_at', 'edited_at', 'deleted_at',
]);
const insertEvent = insertRow('events', [
  'id', 'conversation_id', 'seq', 'type', 'actor_id', 'created_at', 'data', 'message_id', 'visible_to', 'author_id', 'history_at',
]);

type Seqs = { last_seq: number; last_message_seq: number };

/** One append's values, in APPEND_MANY_POSTGRES's parameter order (which takes each as an array). */
function appendParameters({ message, event, data: [head, tail] }: MessageAppend): unknown[] {
  const m = messageToRow({ ...message, seq: 0 });
  const e = eventToRow({ ...event, seq: 0, data: '' });
  return [
    message.createdAt, message.conversationId, m.id, m.type, m.content, m.sender_id, m.sender_display_name, m.metadata,
    m.share, m.system, m.visible_to, m.attachments, m.mentions, m.version, m.edited_at, m.deleted_at, indexTokens(message),
    e.id, e.type, e.actor_id, e.created_at, head, tail, e.visible_to, e.author_id, e.history_at,
  ];
}

// PostgreSQL: every statement is a round trip (and its own work in the backend), so a message send's seq,
// message, search entry and event are one statement, and the sends of a batch side by side
// (StatementBatcher) share it. Each conversation's counters move once by its number of messages, which
// take its seqs in call order; the conversations are locked in id order first, as one by one the batch's
// key order would lock them. Data-modifying CTEs run exactly once, and no insert runs without its
// conversation's row (locked by the UPDATE until commit, as nextSeq locks it).
const APPEND_MANY_POSTGRES = `with p as (
  select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
    $10::text[], $11::text[], $12::text[], $13::text[], $14::integer[], $15::bigint[], $16::bigint[], $17::text[], $18::text[], $19::text[],
    $20::text[], $21::bigint[], $22::text[], $23::text[], $24::text[], $25::text[], $26::bigint[])
    with ordinality as p(created_at, conversation_id, id, type, content, sender_id, sender_display_name, metadata, share, system,
      visible_to, attachments, mentions, version, edited_at, deleted_at, tokens, e_id, e_type, e_actor_id, e_created_at, head, tail,
      e_visible_to, e_author_id, e_history_at, ord)
), g as (
  select conversation_id, count(*)::bigint as n, (array_agg(created_at order by ord desc))[1] as at from p group by conversation_id
), l as (
  select id from conversations where id in (select conversation_id from g) order by id for update
), s as (
  update conversations c set last_seq = c.last_seq + g.n, last_message_seq = c.last_message_seq + g.n, last_activity_at = g.at
  from g join l on l.id = g.conversation_id where c.id = g.conversation_id
  returning c.id, c.last_seq, c.last_message_seq, g.n
), r as (
  select p.*, s.last_seq - s.n + row_number() over w as seq, s.last_message_seq - s.n + row_number() over w as message_seq
  from p join s on s.id = p.conversation_id window w as (partition by p.conversation_id order by p.ord)
), m as (
  insert into messages (id, conversation_id, seq, type, content, sender_id, sender_display_name, metadata, share, system,
    visible_to, attachments, mentions, version, created_at, edited_at, deleted_at)
  select id, conversation_id, message_seq, type, content, sender_id, sender_display_name, metadata, share, system,
    visible_to, attachments, mentions, version, created_at, edited_at, deleted_at from r
), i as (
  insert into message_search (message_id, tokens) select id, tokens from r where tokens <> ''
), e as (
  insert into events (id, conversation_id, seq, type, actor_id, created_at, data, message_id, visible_to, author_id, history_at)
  select e_id, conversation_id, seq, e_type, e_actor_id, e_created_at, head || message_seq || tail, id, e_visible_to, e_author_id,
    e_history_at from r
)
select ord, seq as last_seq, message_seq as last_message_seq from r`;
preparedSql.add(APPEND_MANY_POSTGRES);

const appendManyWithEvents: BatchedStatement<unknown[], Seqs | undefined> = {
  async runMany(db, inputs) {
    const columns = inputs[0]!.map((_, column) => inputs.map((parameters) => parameters[column]));
    const { rows } = await db.executeQuery<Seqs & { ord: number }>(CompiledQuery.raw(APPEND_MANY_POSTGRES, columns));
    return byOrdinal<Seqs>(rows, inputs.length);
  },
};

interface PageShape {
  order: 'asc' | 'desc';
  historyFrom: boolean;
  before: boolean;
  after: boolean;
  start: boolean;
}

type PageArgs = [conversationId: string, viewer: string, historyFrom: unknown, beforeSeq: unknown, afterSeq: unknown, startTime: unknown, limit: number];

// Every read of a conversation's history is one of these 32 shapes: each is built and compiled once
// (see preparedQuery), the first time it is asked for.
const pageQueries = new Map<string, (db: Kysely<Database>, ...args: PageArgs) => Promise<Database['messages'][]>>();

function listPageQuery(shape: PageShape): (db: Kysely<Database>, ...args: PageArgs) => Promise<Database['messages'][]> {
  const key = `${shape.order}:${+shape.historyFrom}${+shape.before}${+shape.after}${+shape.start}`;
  let query = pageQueries.get(key);
  if (!query) {
    query = preparedQuery<Database['messages'], PageArgs>((db) => {
      let q = db
        .selectFrom('messages')
        .selectAll()
        .where('conversation_id', '=', arg<string>(0))
        .where((eb) => eb.or([eb('visible_to', 'is', null), eb('visible_to', '=', arg<string>(1)), eb('sender_id', '=', arg<string>(1))]));
      if (shape.historyFrom) q = q.where('created_at', '>=', arg<number>(2));
      if (shape.before) q = q.where('seq', '<', arg<number>(3));
      if (shape.after) q = q.where('seq', '>', arg<number>(4));
      if (shape.start) q = q.where('created_at', '>=', arg<number>(5));
      return q.orderBy('seq', shape.order).limit(arg<number>(6));
    });
    pageQueries.set(key, query);
  }
  return query;
}

export class KyselyMessageStore implements MessageStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
    private readonly dialect: 'sqlite' | 'postgres',
    /** SQLite: new messages are indexed for search by the backlog, after their commit. */
    private readonly searchBacklog?: SearchBacklog,
    /** The transaction's place in its batch (see StatementBatcher): its appends keep their order. */
    private readonly position?: number,
  ) {}

  async appendWithEvent(append: MessageAppend): Promise<{ seq: number; messageSeq: number }> {
    const { message, event, data: [head, tail] } = append;
    const noSeq = (conversationId: string): Error => new Error(`No conversation ${conversationId} to take a seq from`);
    if (this.dialect === 'postgres') {
      const parameters = appendParameters(append);
      const batcher = batcherOf(this.db);
      const caller = this.position === undefined ? undefined : { position: this.position, keepsOrder: true };
      const seqs = await this.guard('messages.seq', async () =>
        batcher ? batcher.add(appendManyWithEvents, parameters, caller) : (await appendManyWithEvents.runMany(this.db, [parameters]))[0],
      );
      if (!seqs) throw noSeq(message.conversationId);
      return { seq: seqs.last_seq, messageSeq: seqs.last_message_seq };
    }
    return atomically(this.db, async (db) => {
      const [row] = await nextMessageSeq(db, message.createdAt, message.conversationId);
      if (!row) throw noSeq(message.conversationId);
      await this.#insert(db, { ...message, seq: row.last_message_seq });
      await this.guard('events.seq', () =>
        insertEvent(db, eventToRow({ ...event, seq: row.last_seq, data: `${head}${row.last_message_seq}${tail}` })),
      );
      return { seq: row.last_seq, messageSeq: row.last_message_seq };
    });
  }

  async append(message: MessageRecord): Promise<void> {
    await atomically(this.db, (db) => this.#insert(db, message));
  }

  /** The message row and its search entry (now, or through the backlog), in the caller's transaction. */
  async #insert(db: Kysely<Database>, message: MessageRecord): Promise<void> {
    await this.guard('messages.seq', () => insertMessage(db, messageToRow(message)));
    if (this.searchBacklog) this.searchBacklog.noteAppended();
    else await writeMessageIndex(db, message);
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
    const run = listPageQuery({
      order: query.order,
      historyFrom: viewer.historyFrom !== null,
      before: query.beforeSeq !== undefined,
      after: query.afterSeq !== undefined,
      start: query.startTime !== undefined,
    });
    const rows = await run(this.db, conversationId, viewer.userId, viewer.historyFrom, query.beforeSeq, query.afterSeq, query.startTime, query.limit);
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
