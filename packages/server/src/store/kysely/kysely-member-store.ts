import type { Kysely } from 'kysely';
import type { MemberRole, UserKind } from '@parley/protocol';
import type { ConversationId, MemberRecord, MemberView, MessageId, UserId } from '../../domain/index.js';
import type { MemberKey, MemberStore, Membership, NewMemberRecord, PageRequest } from '../store.js';
import type { Database } from './schema.js';
import { memberFromRow } from './rows.js';
import type { Guard } from './guard.js';
import { arg, preparedQuery } from './prepared-query.js';

// Every message send reads the sender's membership (see preparedQuery).
const getMember = preparedQuery<Database['members'], [conversationId: string, userId: string]>((db) =>
  db.selectFrom('members').selectAll().where('conversation_id', '=', arg<string>(0)).where('user_id', '=', arg<string>(1)),
);

export class KyselyMemberStore implements MemberStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  private views() {
    return this.db
      .selectFrom('members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('m')
      .select(['u.handle', 'u.display_name', 'u.kind']);
  }

  async get(conversationId: ConversationId, userId: UserId): Promise<MemberRecord | undefined> {
    const [row] = await getMember(this.db, conversationId, userId);
    return row && memberFromRow(row);
  }

  async getView(conversationId: ConversationId, userId: UserId): Promise<MemberView | undefined> {
    const row = await this.views()
      .where('m.conversation_id', '=', conversationId)
      .where('m.user_id', '=', userId)
      .executeTakeFirst();
    return row && { ...memberFromRow(row), handle: row.handle, displayName: row.nickname ?? row.display_name, kind: row.kind as UserKind };
  }

  async insert(member: NewMemberRecord): Promise<void> {
    await this.guard('members.pk', () =>
      this.db
        .insertInto('members')
        .values({
          conversation_id: member.conversationId,
          user_id: member.userId,
          role: member.role,
          history_from: member.historyFrom,
          joined_at: member.joinedAt,
          nickname: member.nickname ?? null,
          last_read_seq: 0,
          last_read_message_id: null,
          last_read_at: null,
        })
        .execute(),
    );
  }

  async remove(conversationId: ConversationId, userId: UserId): Promise<boolean> {
    const r = await this.db
      .deleteFrom('members')
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async setRole(conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<void> {
    await this.db
      .updateTable('members')
      .set({ role })
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .execute();
  }

  async listPage(conversationId: ConversationId, page: PageRequest<MemberKey>): Promise<MemberView[]> {
    let q = this.views().where('m.conversation_id', '=', conversationId);
    if (page.after !== undefined) {
      const [t, id] = page.after;
      q = q.where((eb) => eb.or([eb('m.joined_at', '>', t), eb.and([eb('m.joined_at', '=', t), eb('m.user_id', '>', id)])]));
    }
    q = q.orderBy('m.joined_at').orderBy('m.user_id').limit(page.limit);
    if (page.skip) q = q.offset(page.skip);
    const rows = await q.execute();
    return rows.map((row) => ({
      ...memberFromRow(row),
      handle: row.handle,
      displayName: row.nickname ?? row.display_name,
      kind: row.kind as UserKind,
    }));
  }

  async countOwners(conversationId: ConversationId): Promise<number> {
    const row = await this.db
      .selectFrom('members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('conversation_id', '=', conversationId)
      .where('role', '=', 'owner')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async listUserIds(conversationId: ConversationId): Promise<UserId[]> {
    const rows = await this.db
      .selectFrom('members')
      .select('user_id')
      .where('conversation_id', '=', conversationId)
      .orderBy('user_id')
      .execute();
    return rows.map((r) => r.user_id as UserId);
  }

  async listConversationIds(userId: UserId): Promise<ConversationId[]> {
    const rows = await this.db.selectFrom('members').select('conversation_id').where('user_id', '=', userId).execute();
    return rows.map((r) => r.conversation_id as ConversationId);
  }

  async listMemberships(userId: UserId): Promise<Membership[]> {
    const rows = await this.db
      .selectFrom('members as m')
      .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
      .select(['m.conversation_id', 'm.history_from', 'm.joined_at', 'c.last_seq'])
      .where('m.user_id', '=', userId)
      .where('c.deleted_at', 'is', null)
      .execute();
    return rows.map((r) => ({
      conversationId: r.conversation_id as ConversationId,
      historyFrom: r.history_from,
      joinedAt: r.joined_at,
      lastSeq: r.last_seq,
    }));
  }

  async markRead(
    conversationId: ConversationId,
    userId: UserId,
    read: { seq: number; messageId: MessageId; at: number },
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('members')
      .set({ last_read_seq: read.seq, last_read_message_id: read.messageId, last_read_at: read.at })
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .where('last_read_seq', '<', read.seq)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async listReceipts(conversationId: ConversationId, page: PageRequest<UserId>): Promise<MemberRecord[]> {
    let q = this.db
      .selectFrom('members')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('last_read_seq', '>', 0);
    if (page.after !== undefined) q = q.where('user_id', '>', page.after);
    q = q.orderBy('user_id').limit(page.limit);
    if (page.skip) q = q.offset(page.skip);
    return (await q.execute()).map(memberFromRow);
  }
}
