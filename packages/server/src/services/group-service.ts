import type {
  AddGroupMembersRequest,
  AddGroupMembersResult,
  CreateGroupRequest,
  CreateGroupResult,
  Group,
  GroupMember,
  GroupMemberPage,
  ListGroupsQuery,
  ListMembersQuery,
  MemberFailure,
  Page,
  UpdateGroupRequest,
} from '@parley/protocol';
import {
  actsAsAdmin,
  canCreateGroup,
  canManageGroup,
  canRemoveGroupMember,
  canSeeGroup,
  canUseGroup,
  enforce,
  limitExceeded,
  newId,
  notFound,
  pageSize,
  type Actor,
  type GroupId,
  type GroupMemberView,
  type GroupRecord,
  type GroupView,
  type UserId,
} from '../domain/index.js';
import type { GroupFilter } from '../store/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { unfitMember } from './member-service.js';
import { iso } from './render.js';
import type { ServiceContext } from './service-context.js';

function renderGroup(g: GroupView, isMember: boolean): Group {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    visibility: g.visibility,
    ownerId: g.ownerId,
    memberCount: g.memberCount,
    isMember,
    createdAt: iso(g.createdAt),
    updatedAt: iso(g.updatedAt),
  };
}

function renderGroupMember(m: GroupMemberView): GroupMember {
  return { groupId: m.groupId, userId: m.userId, handle: m.handle, displayName: m.displayName, kind: m.kind, addedAt: iso(m.addedAt) };
}

const isGroupCursor = (v: unknown): v is { g: string } => typeof v === 'object' && v !== null && typeof (v as { g?: unknown }).g === 'string';
const isMemberCursor = (v: unknown): v is { a: number; u: string } =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as { a?: unknown }).a) && typeof (v as { u?: unknown }).u === 'string';

/** Groups (Teamwire circles and lists): named sets of users whose members can be added to conversations at once. */
export class GroupService {
  constructor(private readonly ctx: ServiceContext) {}

  async create(actor: Actor, req: CreateGroupRequest): Promise<CreateGroupResult> {
    const visibility = req.visibility ?? (actor.kind === 'bot' ? 'public' : 'private');
    enforce(canCreateGroup(actor, visibility), 'visibility');
    const members = req.members ?? [];
    this.#checkBatch(members.length);
    const now = this.ctx.clock();
    const group: GroupRecord = {
      id: newId('group', now),
      name: req.name,
      description: req.description ?? '',
      visibility,
      ownerId: actor.id,
      createdAt: now,
      updatedAt: now,
    };
    return this.ctx.store.transaction(async (tx) => {
      await tx.groups.insert(group);
      const { added, failures } = await this.#addMembers(tx, group.id, members, now);
      const view = (await tx.groups.get(group.id))!;
      return { group: renderGroup(view, added.includes(actor.id)), failures };
    });
  }

  async get(actor: Actor, groupId: GroupId): Promise<Group> {
    const { group, isMember } = await this.#load(actor, groupId);
    enforce(canSeeGroup(actor, group, isMember), 'groupId');
    return renderGroup(group, isMember);
  }

  /** Groups the caller may see (admins: all), filtered; skip/limit or cursor paging. */
  async list(actor: Actor, query: ListGroupsQuery): Promise<Page<Group>> {
    const limit = pageSize(query.limit, this.ctx.limits.defaultPageSize, this.ctx.limits.maxPageSize);
    const after = query.cursor === undefined ? undefined : (decodeCursor(query.cursor, isGroupCursor).g as GroupId);
    const filter: GroupFilter = {
      ...(query.visibility !== undefined ? { visibility: query.visibility } : {}),
      ...(query.name !== undefined ? { name: query.name } : {}),
      ...(query.mine ? { ownerOrMember: actor.id } : {}),
      ...(actsAsAdmin(actor) ? {} : { visibleTo: actor.id }),
    };
    const rows = await this.ctx.store.groups.listPage(filter, { limit: limit + 1, ...(after !== undefined ? { after } : { skip: query.skip ?? 0 }) });
    const items = rows.slice(0, limit);
    const mine = await this.ctx.store.groups.membershipsOf(actor.id, items.map((g) => g.id));
    const last = items.at(-1);
    return { items: items.map((g) => renderGroup(g, mine.has(g.id))), nextCursor: rows.length > limit && last ? encodeCursor({ g: last.id }) : null };
  }

  async update(actor: Actor, groupId: GroupId, req: UpdateGroupRequest): Promise<Group> {
    const { group, isMember } = await this.#load(actor, groupId);
    enforce(canManageGroup(actor, group, isMember), 'groupId');
    if (req.visibility !== undefined) enforce(canCreateGroup(actor, req.visibility), 'visibility');
    await this.ctx.store.groups.update(groupId, {
      ...(req.name !== undefined ? { name: req.name } : {}),
      ...(req.description !== undefined ? { description: req.description } : {}),
      ...(req.visibility !== undefined ? { visibility: req.visibility } : {}),
      updatedAt: this.ctx.clock(),
    });
    return renderGroup((await this.ctx.store.groups.get(groupId))!, isMember);
  }

  /** Deletes the group; conversations its members were added to keep them. */
  async delete(actor: Actor, groupId: GroupId): Promise<void> {
    const { group, isMember } = await this.#load(actor, groupId);
    enforce(canManageGroup(actor, group, isMember), 'groupId');
    await this.ctx.store.groups.delete(groupId);
  }

  async listMembers(actor: Actor, groupId: GroupId, query: ListMembersQuery): Promise<GroupMemberPage> {
    const { group, isMember } = await this.#load(actor, groupId);
    enforce(canSeeGroup(actor, group, isMember), 'groupId');
    const limit = pageSize(query.limit, 100, this.ctx.limits.maxMembersPageSize);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isMemberCursor);
    const rows = await this.ctx.store.groups.listMembers(groupId, {
      limit: limit + 1,
      ...(after ? { after: [after.a, after.u as UserId] as const } : { skip: query.skip ?? 0 }),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(renderGroupMember),
      nextCursor: rows.length > limit && last ? encodeCursor({ a: last.addedAt, u: last.userId }) : null,
      total: group.memberCount,
    };
  }

  /** Adds many; members already in the group are left as they are; failures are reported per user. */
  async addMembers(actor: Actor, groupId: GroupId, req: AddGroupMembersRequest): Promise<AddGroupMembersResult> {
    this.#checkBatch(req.members.length);
    const { group, isMember } = await this.#load(actor, groupId);
    enforce(canManageGroup(actor, group, isMember), 'groupId');
    const now = this.ctx.clock();
    return this.ctx.store.transaction(async (tx) => {
      const { added, failures } = await this.#addMembers(tx, groupId, req.members, now);
      const users = new Map((await tx.users.getMany(added)).map((u) => [u.id, u]));
      const members = added.map((userId): GroupMember => {
        const u = users.get(userId)!;
        return { groupId, userId, handle: u.handle, displayName: u.displayName, kind: u.kind, addedAt: iso(now) };
      });
      return { added: members, failures };
    });
  }

  async removeMember(actor: Actor, groupId: GroupId, userId: UserId): Promise<void> {
    const { group, isMember } = await this.#load(actor, groupId);
    enforce(canRemoveGroupMember(actor, group, isMember, userId), 'groupId');
    if (!(await this.ctx.store.groups.removeMember(groupId, userId))) throw notFound('Group member', 'userId');
  }

  /**
   * The current, enabled members of groups named in a conversation create or add request, once each, in
   * group order. Every group must be usable by the actor (bots: public groups only).
   */
  async memberIdsForConversation(actor: Actor, groupIds: readonly string[]): Promise<UserId[]> {
    const ids = groupIds as readonly GroupId[];
    const mine = await this.ctx.store.groups.membershipsOf(actor.id, ids);
    const out = new Set<UserId>();
    for (const [i, id] of ids.entries()) {
      const group = await this.ctx.store.groups.get(id);
      if (!group) throw notFound('Group', `groups[${i}]`);
      enforce(canUseGroup(actor, group, mine.has(id)), `groups[${i}]`);
      for (const userId of await this.ctx.store.groups.listActiveMemberIds(id)) out.add(userId);
      if (out.size > this.ctx.limits.maxMembersPerConversation) {
        throw limitExceeded(`A conversation may have at most ${this.ctx.limits.maxMembersPerConversation} members`, `groups[${i}]`);
      }
    }
    return [...out];
  }

  async #load(actor: Actor, groupId: GroupId): Promise<{ group: GroupView; isMember: boolean }> {
    const group = await this.ctx.store.groups.get(groupId);
    if (!group) throw notFound('Group', 'groupId');
    const isMember = (await this.ctx.store.groups.membershipsOf(actor.id, [groupId])).has(groupId);
    return { group, isMember };
  }

  #checkBatch(n: number): void {
    if (n > this.ctx.limits.maxMembersPerRequest) {
      throw limitExceeded(`At most ${this.ctx.limits.maxMembersPerRequest} members can be added at once`, 'members');
    }
  }

  async #addMembers(
    tx: ServiceContext['store'],
    groupId: GroupId,
    userIds: readonly string[],
    now: number,
  ): Promise<{ added: UserId[]; failures: MemberFailure[] }> {
    const users = new Map((await tx.users.getMany(userIds as UserId[])).map((u) => [u.id, u]));
    const added: UserId[] = [];
    const failures: MemberFailure[] = [];
    const seen = new Set<string>();
    const group = await tx.groups.get(groupId);
    let count = group?.memberCount ?? 0;
    for (const [i, id] of userIds.entries()) {
      if (seen.has(id)) continue;
      seen.add(id);
      const userId = id as UserId;
      const unfit = unfitMember(users.get(userId));
      const fail = (code: string, message: string) => failures.push({ userId, error: { code, message, target: `members[${i}]` } });
      if (unfit) fail(unfit.code, unfit.message);
      else if (count >= this.ctx.limits.maxMembersPerConversation) {
        fail('limit_exceeded', `A group may have at most ${this.ctx.limits.maxMembersPerConversation} members`);
      } else if (await tx.groups.addMember({ groupId, userId, addedAt: now })) {
        added.push(userId);
        count += 1;
      }
    }
    return { added, failures };
  }
}
