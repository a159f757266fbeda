import type { Kysely, Selectable } from 'kysely';
import type { GroupVisibility, UserKind } from '@parley/protocol';
import type { GroupId, GroupMemberRecord, GroupMemberView, GroupRecord, GroupView, UserId } from '../../domain/index.js';
import type { GroupFilter, GroupMemberKey, GroupStore, PageRequest } from '../store.js';
import type { Guard } from './guard.js';
import type { Database, UserGroupsTable } from './schema.js';

function groupFromRow(row: Selectable<UserGroupsTable> & { member_count: number | string | bigint | null }): GroupView {
  return {
    id: row.id as GroupId,
    name: row.name,
    description: row.description,
    visibility: row.visibility as GroupVisibility,
    ownerId: row.owner_id as UserId | null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    memberCount: Number(row.member_count ?? 0),
  };
}

export class KyselyGroupStore implements GroupStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  #select() {
    return this.db
      .selectFrom('user_groups')
      .selectAll('user_groups')
      .select((eb) =>
        eb
          .selectFrom('user_group_members')
          .whereRef('user_group_members.group_id', '=', 'user_groups.id')
          .select(eb.fn.countAll<number>().as('n'))
          .as('member_count'),
      );
  }

  async insert(group: GroupRecord): Promise<void> {
    await this.guard('user_groups.id', () =>
      this.db
        .insertInto('user_groups')
        .values({
          id: group.id,
          name: group.name,
          description: group.description,
          visibility: group.visibility,
          owner_id: group.ownerId,
          created_at: group.createdAt,
          updated_at: group.updatedAt,
        })
        .execute(),
    );
  }

  async get(id: GroupId): Promise<GroupView | undefined> {
    const row = await this.#select().where('user_groups.id', '=', id).executeTakeFirst();
    return row && groupFromRow(row);
  }

  async update(id: GroupId, patch: Partial<Pick<GroupRecord, 'name' | 'description' | 'visibility' | 'updatedAt'>>): Promise<void> {
    const set: Partial<UserGroupsTable> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.visibility !== undefined) set.visibility = patch.visibility;
    if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
    if (Object.keys(set).length > 0) await this.db.updateTable('user_groups').set(set).where('id', '=', id).execute();
  }

  async delete(id: GroupId): Promise<boolean> {
    // Members go first so the delete does not depend on the database honouring ON DELETE CASCADE.
    await this.db.deleteFrom('user_group_members').where('group_id', '=', id).execute();
    const r = await this.db.deleteFrom('user_groups').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async listPage(filter: GroupFilter, page: PageRequest<GroupId>): Promise<GroupView[]> {
    let q = this.#select();
    if (filter.visibility !== undefined) q = q.where('user_groups.visibility', '=', filter.visibility);
    if (filter.name !== undefined) q = q.where('user_groups.name', '=', filter.name);
    const belongs = (userId: UserId) =>
      this.db.selectFrom('user_group_members').select('group_id').where('user_id', '=', userId);
    if (filter.ownerOrMember !== undefined) {
      const userId = filter.ownerOrMember;
      q = q.where((eb) => eb.or([eb('user_groups.owner_id', '=', userId), eb('user_groups.id', 'in', belongs(userId))]));
    }
    if (filter.visibleTo !== undefined) {
      const userId = filter.visibleTo;
      q = q.where((eb) =>
        eb.or([
          eb('user_groups.visibility', '=', 'public'),
          eb('user_groups.owner_id', '=', userId),
          eb('user_groups.id', 'in', belongs(userId)),
        ]),
      );
    }
    if (page.after !== undefined) q = q.where('user_groups.id', '>', page.after);
    q = q.orderBy('user_groups.id').limit(page.limit);
    if (page.skip) q = q.offset(page.skip);
    return (await q.execute()).map(groupFromRow);
  }

  async membershipsOf(userId: UserId, groupIds: readonly GroupId[]): Promise<Set<GroupId>> {
    if (groupIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('user_group_members')
      .select('group_id')
      .where('user_id', '=', userId)
      .where('group_id', 'in', groupIds)
      .execute();
    return new Set(rows.map((r) => r.group_id as GroupId));
  }

  async addMember(member: GroupMemberRecord): Promise<boolean> {
    const r = await this.db
      .insertInto('user_group_members')
      .values({ group_id: member.groupId, user_id: member.userId, added_at: member.addedAt })
      .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async removeMember(groupId: GroupId, userId: UserId): Promise<boolean> {
    const r = await this.db.deleteFrom('user_group_members').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async listMembers(groupId: GroupId, page: PageRequest<GroupMemberKey>): Promise<GroupMemberView[]> {
    let q = this.db
      .selectFrom('user_group_members as gm')
      .innerJoin('users as u', 'u.id', 'gm.user_id')
      .select(['gm.group_id', 'gm.user_id', 'gm.added_at', 'u.handle', 'u.display_name', 'u.kind'])
      .where('gm.group_id', '=', groupId);
    if (page.after !== undefined) {
      const [addedAt, userId] = page.after;
      q = q.where((eb) => eb.or([eb('gm.added_at', '>', addedAt), eb.and([eb('gm.added_at', '=', addedAt), eb('gm.user_id', '>', userId)])]));
    }
    q = q.orderBy('gm.added_at').orderBy('gm.user_id').limit(page.limit);
    if (page.skip) q = q.offset(page.skip);
    return (await q.execute()).map((r) => ({
      groupId: r.group_id as GroupId,
      userId: r.user_id as UserId,
      addedAt: Number(r.added_at),
      handle: r.handle,
      displayName: r.display_name,
      kind: r.kind as UserKind,
    }));
  }

  async listActiveMemberIds(groupId: GroupId): Promise<UserId[]> {
    const rows = await this.db
      .selectFrom('user_group_members as gm')
      .innerJoin('users as u', 'u.id', 'gm.user_id')
      .select('gm.user_id')
      .where('gm.group_id', '=', groupId)
      .where('u.disabled', '=', 0)
      .where('u.kind', '!=', 'system')
      .orderBy('gm.added_at')
      .orderBy('gm.user_id')
      .execute();
    return rows.map((r) => r.user_id as UserId);
  }
}
