import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { ConversationId, ConversationRecord, MemberRecord, UserId } from '../../domain/index.js';
import type {
  AdminConversationFilter,
  AdminConversationSort,
  ConversationFilter,
  ConversationKey,
  ConversationPatch,
  ConversationSort,
  ConversationStore,
  MemberConversation,
  PageRequest,
} from '../store.js';
import type { Database } from './schema.js';
import { conversationFromRow, conversationToRow, memberFromRow } from './rows.js';
import type { Guard } from './guard.js';
import { atomically, deleteRoomIndex, writeRoomIndex } from './search-index.js';
import { arg, preparedQuery, preparedSql } from './prepared-query.js';
import { batcherOf, byOrdinal, type BatchedStatement } from './statement-batcher.js';
import type { MemberRole } from '@parley/protocol';

const ADMIN_SORT_COLUMNS = { created: 'created_at', updated: 'updated_at', activity: 'last_activity_at', members: 'member_count' } as const;

const DAY_MS = 86_400_000;

// The queries of every message send, compiled once (see preparedQuery).
const getLive = preparedQuery<Database['conversations'], [id: string]>((db) =>
  db.selectFrom('conversations').selectAll().where('id', '=', arg<string>(0)).where('deleted_at', 'is', null),
);

const MEMBER_COLUMNS = [
  'conversation_id', 'user_id', 'role', 'history_from', 'joined_at', 'nickname', 'last_read_seq', 'last_read_message_id', 'last_read_at',
] as const satisfies readonly (keyof Database['members'])[];

// The member's columns come back prefixed (`m_role`, …): both tables have a conversation id.
type ConversationWithMemberRow = Database['conversations'] & { [K in (typeof MEMBER_COLUMNS)[number] as `m_${K}`]: Database['members'][K] | null };

const getLiveWithMember = preparedQuery<ConversationWithMemberRow, [id: string, userId: string]>((db) =>
  db
    .selectFrom('conversations as c')
    .leftJoin('members as m', (join) => join.onRef('m.conversation_id', '=', 'c.id').on('m.user_id', '=', arg<string>(1)))
    .selectAll('c')
    .select(MEMBER_COLUMNS.map((column) => `m.${column} as m_${column}` as const))
    .where('c.id', '=', arg<string>(0))
    .where('c.deleted_at', 'is', null),
);

// PostgreSQL, sends side by side (StatementBatcher): the conversations and memberships of every send of a
// batch in one read, decoded like getLiveWithMember's rows (same columns).
const ACCESS_OF_MANY_POSTGRES = `select p.ord, c.*, ${MEMBER_COLUMNS.map((column) => `m.${column} as m_${column}`).join(', ')}
from unnest($1::text[], $2::text[]) with ordinality as p(conversation_id, user_id, ord)
join conversations c on c.id = p.conversation_id and c.deleted_at is null
left join members m on m.conversation_id = c.id and m.user_id = p.user_id`;
preparedSql.add(ACCESS_OF_MANY_POSTGRES);

const accessOfMany: BatchedStatement<readonly [id: string, userId: string], ConversationWithMemberRow | undefined> = {
  async runMany(db, inputs) {
    const { rows } = await db.executeQuery<ConversationWithMemberRow & { ord: number }>(
      CompiledQuery.raw(ACCESS_OF_MANY_POSTGRES, [inputs.map(([id]) => id), inputs.map(([, userId]) => userId)]),
    );
    return byOrdinal<ConversationWithMemberRow>(rows, inputs.length);
  },
};

function memberOfRow(row: ConversationWithMemberRow): MemberRecord | undefined {
  if (row.m_user_id === null) return undefined;
  const member = Object.fromEntries(MEMBER_COLUMNS.map((column) => [column, row[`m_${column}`]])) as unknown as Database['members'];
  return memberFromRow(member);
}
const nextSeqQuery = (message: boolean) =>
  preparedQuery<{ last_seq: number; last_message_seq: number }, [at: number, id: string]>((db) =>
    db
      .updateTable('conversations')
      .set({
        last_seq: sql`last_seq + 1`,
        last_message_seq: message ? sql`last_message_seq + 1` : sql`last_message_seq`,
        last_activity_at: arg<number>(0),
      })
      .where('id', '=', arg<string>(1))
      .returning(['last_seq', 'last_message_seq']),
  );
export const nextMessageSeq = nextSeqQuery(true);
const nextEventSeq = nextSeqQuery(false);

export class KyselyConversationStore implements ConversationStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  async insert(conversation: ConversationRecord): Promise<void> {
    await atomically(this.db, async (db) => {
      await this.guard('conversations.dedupe_key', () =>
        db
          .insertInto('conversations')
          .values({ ...(conversationToRow(conversation) as Database['conversations']), deleted_at: null })
          .execute(),
      );
      await writeRoomIndex(db, conversation);
    });
  }

  async get(id: ConversationId): Promise<ConversationRecord | undefined> {
    const [row] = await getLive(this.db, id);
    return row && conversationFromRow(row);
  }

  async getWithMember(id: ConversationId, userId: UserId): Promise<{ conversation: ConversationRecord; member: MemberRecord | undefined } | undefined> {
    const batcher = batcherOf(this.db);
    const row = batcher ? await batcher.add(accessOfMany, [id, userId]) : (await getLiveWithMember(this.db, id, userId))[0];
    return row && { conversation: conversationFromRow(row), member: memberOfRow(row) };
  }

  async getByDedupeKey(key: string): Promise<ConversationRecord | undefined> {
    const row = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('dedupe_key', '=', key)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row && conversationFromRow(row);
  }

  async update(id: ConversationId, patch: ConversationPatch): Promise<void> {
    const row = conversationToRow(patch);
    if (Object.keys(row).length === 0) return;
    await atomically(this.db, async (db) => {
      await this.guard('conversations.dedupe_key', () => db.updateTable('conversations').set(row).where('id', '=', id).execute());
      if (row.title === undefined && row.description === undefined && row.keywords === undefined) return;
      const current = await db.selectFrom('conversations').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
      if (current) await writeRoomIndex(db, conversationFromRow(current));
    });
  }

  async nextSeq(id: ConversationId, message: boolean, at: number): Promise<{ seq: number; messageSeq: number }> {
    // One UPDATE ... RETURNING both increments and reads: in PostgreSQL it row-locks the conversation
    // until commit, so concurrent writers to one conversation get consecutive seqs, never the same one.
    const [row] = await (message ? nextMessageSeq : nextEventSeq)(this.db, at, id);
    if (!row) throw new Error(`No conversation ${id} to take a seq from`);
    return { seq: Number(row.last_seq), messageSeq: Number(row.last_message_seq) };
  }

  async adjustMemberCount(id: ConversationId, delta: number): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ member_count: sql`member_count + ${delta}` })
      .where('id', '=', id)
      .execute();
  }

  async markDeleted(id: ConversationId, at: number): Promise<void> {
    await atomically(this.db, async (db) => {
      await db.updateTable('conversations').set({ deleted_at: at, dedupe_key: null, updated_at: at }).where('id', '=', id).execute();
      await deleteRoomIndex(db, id);
    });
  }

  async listAll(
    filter: AdminConversationFilter,
    sort: AdminConversationSort,
    order: 'asc' | 'desc',
    page: PageRequest<ConversationKey>,
  ): Promise<ConversationRecord[]> {
    const column = ADMIN_SORT_COLUMNS[sort];
    let q = this.db.selectFrom('conversations').selectAll().where('deleted_at', 'is', null);
    if (filter.kinds !== undefined && filter.kinds.length > 0) q = q.where('kind', 'in', filter.kinds);
    if (filter.active !== undefined) q = q.where('active', '=', filter.active ? 1 : 0);
    if (filter.createdBy !== undefined) q = q.where('created_by', '=', filter.createdBy);
    if (filter.createdSince !== undefined) q = q.where('created_at', '>=', filter.createdSince);
    if (filter.createdUntil !== undefined) q = q.where('created_at', '<', filter.createdUntil);
    if (filter.updatedSince !== undefined) q = q.where('updated_at', '>=', filter.updatedSince);
    if (filter.updatedUntil !== undefined) q = q.where('updated_at', '<', filter.updatedUntil);
    if (filter.minMembers !== undefined) q = q.where('member_count', '>=', filter.minMembers);
    if (filter.maxMembers !== undefined) q = q.where('member_count', '<=', filter.maxMembers);
    if (page.after !== undefined) {
      const [value, id] = page.after;
      q = q.where((eb) => eb(eb.refTuple(column, 'id'), order === 'asc' ? '>' : '<', eb.tuple(value, id)));
    }
    q = q.orderBy(column, order).orderBy('id', order).limit(page.limit);
    if (page.skip) q = q.offset(page.skip);
    return (await q.execute()).map(conversationFromRow);
  }

  async listRetentionDue(now: number, limit: number): Promise<ConversationId[]> {
    const rows = await this.db
      .selectFrom('conversations')
      .select('id')
      .where('deleted_at', 'is', null)
      .where('retention_days', 'is not', null)
      .where((eb) => eb(eb('created_at', '+', eb('retention_days', '*', DAY_MS)), '<=', now))
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id as ConversationId);
  }

  async listForMember(
    userId: UserId,
    filter: ConversationFilter,
    sort: ConversationSort,
    page: PageRequest<ConversationKey>,
  ): Promise<MemberConversation[]> {
    let q = this.db
      .selectFrom('members as m')
      .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
      .selectAll('c')
      .select(['m.role as member_role', 'm.last_read_seq as member_last_read_seq'])
      .select((eb) =>
        eb
          .selectFrom('messages as msg')
          .select((sub) => sub.fn.countAll<number>().as('n'))
          .whereRef('msg.conversation_id', '=', 'c.id')
          .whereRef('msg.seq', '>', 'm.last_read_seq')
          .where('msg.sender_id', '!=', userId)
          .where('msg.deleted_at', 'is', null)
          .where('msg.type', '!=', 'system')
          .where((w) => w.or([w('msg.visible_to', 'is', null), w('msg.visible_to', '=', userId)]))
          .where((w) => w.or([w('m.history_from', 'is', null), w('msg.created_at', '>=', w.ref('m.history_from'))]))
          .as('unread_count'),
      )
      .where('m.user_id', '=', userId)
      .where('c.deleted_at', 'is', null);
    if (filter.kind !== undefined) q = q.where('c.kind', '=', filter.kind);
    if (filter.active !== undefined) q = q.where('c.active', '=', filter.active ? 1 : 0);
    if (filter.updatedSince !== undefined) q = q.where('c.updated_at', '>=', filter.updatedSince);
    if (filter.activeSince !== undefined) q = q.where('c.last_activity_at', '>=', filter.activeSince);
    if (filter.title !== undefined) q = q.where('c.title', '=', filter.title);
    const column = sort === 'created' ? 'c.created_at' : 'c.last_activity_at';
    if (page.after !== undefined) {
      const [t, id] = page.after;
      q =
        sort === 'created'
          ? q.where((eb) => eb.or([eb(column, '>', t), eb.and([eb(column, '=', t), eb('c.id', '>', id)])]))
          : q.where((eb) => eb.or([eb(column, '<', t), eb.and([eb(column, '=', t), eb('c.id', '<', id)])]));
    }
    const dir = sort === 'created' ? 'asc' : 'desc';
    q = q.orderBy(column, dir).orderBy('c.id', dir).limit(page.limit);
    if (page.skip) q = q.offset(page.skip);
    const rows = await q.execute();
    return rows.map((r) => ({
      conversation: conversationFromRow(r),
      role: r.member_role as MemberRole,
      lastReadSeq: Number(r.member_last_read_seq),
      unreadCount: Number(r.unread_count ?? 0),
    }));
  }
}
