import type {
  AddMembersRequest,
  AddMembersResult,
  ListMembersQuery,
  Member,
  MemberFailure,
  MemberPage,
  MemberRole,
  MemberSpec,
} from '@parley/protocol';
import {
  actsAsAdmin,
  badRequest,
  canAddMembers,
  canChangeRole,
  canJoin,
  canLeave,
  canRead,
  canRemoveMember,
  enforce,
  forbidden,
  keepsAnOwner,
  limitExceeded,
  notFound,
  pageSize,
  type Actor,
  type ConversationId,
  type ConversationRecord,
  type MemberView,
  type UserId,
  type UserRecord,
} from '../domain/index.js';
import type { NewMemberRecord } from '../store/index.js';
import { loadAccess, joinNames, type Access } from './access.js';
import { writeConversation, type ConversationWriter } from './conversation-writer.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { parseTime, renderMember } from './render.js';
import type { GroupService } from './group-service.js';
import type { ServiceContext } from './service-context.js';
import { recordAudit, usesAdminPower } from './audit-log.js';
import { requireAdmin } from './identity-service.js';

/** A member to add, resolved from a MemberSpec. */
export interface NewMember {
  user: UserRecord;
  role: MemberRole;
  /** Requested share-history time, if any. */
  historyFrom?: number;
  /** The member's name in this conversation, if one was given. */
  nickname?: string;
}

/** A member spec with its user id typed and its share-history time parsed. */
export interface NormalisedSpec {
  userId: UserId;
  role?: MemberRole;
  historyFrom?: number;
  nickname?: string;
}

export function normaliseSpec(spec: MemberSpec): NormalisedSpec {
  if (typeof spec === 'string') return { userId: spec as UserId };
  return {
    userId: spec.userId as UserId,
    ...(spec.role !== undefined ? { role: spec.role } : {}),
    ...(spec.historyFrom !== undefined ? { historyFrom: parseTime(spec.historyFrom, 'historyFrom') } : {}),
    ...(spec.displayName !== undefined ? { nickname: spec.displayName } : {}),
  };
}

/** The NewMember for a spec whose user was found fit. */
export function newMember(user: UserRecord, spec: NormalisedSpec): NewMember {
  return {
    user,
    role: spec.role ?? 'member',
    ...(spec.historyFrom !== undefined ? { historyFrom: spec.historyFrom } : {}),
    ...(spec.nickname !== undefined ? { nickname: spec.nickname } : {}),
  };
}

export function memberView(m: NewMemberRecord, u: UserRecord): MemberView {
  return {
    lastReadSeq: 0,
    lastReadMessageId: null,
    lastReadAt: null,
    ...m,
    nickname: m.nickname ?? null,
    handle: u.handle,
    displayName: m.nickname ?? u.displayName,
    kind: u.kind,
  };
}

/** Why a user cannot be a member at all, or null. */
export function unfitMember(user: UserRecord | undefined): { code: 'not_found' | 'forbidden'; message: string } | null {
  if (!user) return { code: 'not_found', message: 'User not found' };
  if (user.kind === 'system') return { code: 'forbidden', message: 'The system account cannot be a member' };
  if (user.disabled) return { code: 'forbidden', message: 'The user is disabled' };
  return null;
}

/**
 * The share-history time of a new member: what was asked for, but never earlier than now when the
 * conversation hides history from new members.
 */
export function historyFromFor(conv: ConversationRecord, requested: number | undefined, now: number, initial: boolean): number | null {
  if (initial || conv.historyVisibleToNewMembers) return requested ?? null;
  return Math.max(requested ?? now, now);
}

interface MemberCursor {
  j: number;
  u: string;
}
const isMemberCursor = (v: unknown): v is MemberCursor =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as MemberCursor).j) && typeof (v as MemberCursor).u === 'string';

/** Membership: list, add, remove, roles, leave, join. */
export class MemberService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly groups: GroupService,
  ) {}

  /** Members, to members; `asAdmin` is the admin view of any conversation's members. */
  async list(actor: Actor, conversationId: ConversationId, query: ListMembersQuery, options: { asAdmin?: boolean } = {}): Promise<MemberPage> {
    if (options.asAdmin) requireAdmin(actor);
    const access = await loadAccess(this.ctx.store, conversationId, actor);
    if (!options.asAdmin) enforce(canRead(actor, access.conv, access.facts), 'conversationId');
    const limit = pageSize(query.limit, 100, this.ctx.limits.maxMembersPageSize);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isMemberCursor);
    const rows = await this.ctx.store.members.listPage(conversationId, {
      limit: limit + 1,
      ...(after ? { after: [after.j, after.u as UserId] as const } : { skip: query.skip ?? 0 }),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(renderMember),
      nextCursor: rows.length > limit && last ? encodeCursor({ j: last.joinedAt, u: last.userId }) : null,
      total: access.conv.memberCount,
    };
  }

  async get(actor: Actor, conversationId: ConversationId, userId: UserId): Promise<Member> {
    const access = await loadAccess(this.ctx.store, conversationId, actor);
    enforce(canRead(actor, access.conv, access.facts), 'conversationId');
    const view = await this.ctx.store.members.getView(conversationId, userId);
    if (!view) throw notFound('Member', 'userId');
    return renderMember(view);
  }

  /** Adds many; existing members are left as they are; each failure is reported per participant. */
  async add(actor: Actor, conversationId: ConversationId, req: AddMembersRequest): Promise<AddMembersResult> {
    const explicit = req.members ?? [];
    if (explicit.length === 0 && (req.groups ?? []).length === 0) throw badRequest('Name members, groups, or both', 'members');
    if (explicit.length > this.ctx.limits.maxMembersPerRequest) {
      throw limitExceeded(`At most ${this.ctx.limits.maxMembersPerRequest} members can be added at once`, 'members');
    }
    const specs = await this.withGroupMembers(actor, explicit.map(normaliseSpec), req.groups);
    const users = new Map((await this.ctx.store.users.getMany(specs.map((s) => s.userId))).map((u) => [u.id, u]));
    return writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      enforce(canAddMembers(actor, access.conv, access.facts), 'conversationId');
      const failures: MemberFailure[] = [];
      const toAdd: NewMember[] = [];
      const seen = new Set<string>();
      const mayGrantOwner = access.member?.role === 'owner' || actsAsAdmin(actor);
      for (const [i, spec] of specs.entries()) {
        if (seen.has(spec.userId)) continue;
        seen.add(spec.userId);
        const user = users.get(spec.userId);
        const unfit = unfitMember(user);
        // Members that came from groups follow the named ones: report them against `groups`.
        const target = i < explicit.length ? `members[${i}]` : 'groups';
        const fail = (code: string, message: string) => failures.push({ userId: spec.userId, error: { code, message, target } });
        if (unfit) fail(unfit.code, unfit.message);
        else if (spec.role === 'owner' && (access.conv.kind !== 'room' || !mayGrantOwner)) {
          fail('forbidden', access.conv.kind === 'room' ? 'Only owners can add owners' : 'Only rooms have owners');
        } else if (await w.tx.members.get(conversationId, spec.userId)) continue;
        else if (access.conv.memberCount + toAdd.length >= this.ctx.limits.maxMembersPerConversation) {
          fail('limit_exceeded', `A conversation may have at most ${this.ctx.limits.maxMembersPerConversation} members`);
        } else {
          toAdd.push(newMember(user!, spec));
        }
      }
      const added = await this.insertMembers(w, access.conv, actor, toAdd, false);
      if (added.length > 0 && usesAdminPower(actor, (a) => canAddMembers(a, access.conv, access.facts))) {
        await recordAudit(w.tx, actor, w.now, 'member.added', { type: 'conversation', id: conversationId }, {
          userIds: added.map((m) => m.userId),
        });
      }
      return { added: added.map(renderMember), failures };
    });
  }

  /**
   * Explicit member specs followed by the current members of the named groups that are not already named
   * (as plain members). Groups are checked for the actor first: bots may use only public groups.
   */
  async withGroupMembers(actor: Actor, specs: NormalisedSpec[], groupIds: readonly string[] | undefined): Promise<NormalisedSpec[]> {
    if (!groupIds || groupIds.length === 0) return specs;
    const named = new Set<string>(specs.map((s) => s.userId));
    const fromGroups = (await this.groups.memberIdsForConversation(actor, groupIds)).filter((id) => !named.has(id) && id !== actor.id);
    return [...specs, ...fromGroups.map((userId) => ({ userId }))];
  }

  /**
   * Inserts members inside a running write: member.added events, one system message naming them, the
   * member count, and the group's dedupe key.
   */
  async insertMembers(
    w: ConversationWriter,
    conv: ConversationRecord,
    actor: Actor,
    members: readonly NewMember[],
    initial: boolean,
  ): Promise<MemberView[]> {
    if (members.length === 0) return [];
    const views: MemberView[] = [];
    for (const m of members) {
      const record: NewMemberRecord = {
        conversationId: conv.id,
        userId: m.user.id,
        role: m.role,
        historyFrom: historyFromFor(conv, m.historyFrom, w.now, initial),
        joinedAt: w.now,
        nickname: m.nickname ?? null,
      };
      await w.tx.members.insert(record);
      views.push(memberView(record, m.user));
    }
    await w.tx.conversations.adjustMemberCount(conv.id, members.length);
    conv.memberCount += members.length;
    for (const view of views) await w.event(conv, 'member.added', actor.id, { member: renderMember(view) });
    const others = views.filter((v) => v.userId !== actor.id);
    if (!initial || others.length > 0) {
      const self = views.length === 1 && views[0]!.userId === actor.id;
      const content = self
        ? `${actor.displayName} joined`
        : `${actor.displayName} added ${joinNames(others.map((v) => v.displayName))}`;
      await w.systemMessage(conv, { event: 'member.added', actorId: actor.id, userIds: views.map((v) => v.userId) }, content);
    }
    if (!initial) await refreshDedupeKey(w, conv);
    return views;
  }

  async remove(actor: Actor, conversationId: ConversationId, userId: UserId): Promise<void> {
    if (userId === actor.id) return this.leave(actor, conversationId);
    await writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      enforce(canRemoveMember(actor, access.conv, access.facts), 'conversationId');
      const target = await w.tx.members.getView(conversationId, userId);
      if (!target) throw notFound('Member', 'userId');
      if (access.conv.kind === 'room') enforce(keepsAnOwner(target.role, await w.tx.members.countOwners(conversationId)), 'userId');
      if (usesAdminPower(actor, (a) => canRemoveMember(a, access.conv, access.facts))) {
        await recordAudit(w.tx, actor, w.now, 'member.removed', { type: 'conversation', id: conversationId }, { userId });
      }
      await this.#removeMember(w, access, actor, target, false);
    });
  }

  async leave(actor: Actor, conversationId: ConversationId): Promise<void> {
    await writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      const owners = access.member?.role === 'owner' ? await w.tx.members.countOwners(conversationId) : 0;
      enforce(canLeave(access.conv, access.facts, { owners, members: access.conv.memberCount }), 'conversationId');
      const target = await w.tx.members.getView(conversationId, actor.id);
      await this.#removeMember(w, access, actor, target!, true);
    });
  }

  async #removeMember(w: ConversationWriter, access: Access, actor: Actor, target: MemberView, left: boolean): Promise<void> {
    const { conv } = access;
    await w.tx.members.remove(conv.id, target.userId);
    await w.tx.conversations.adjustMemberCount(conv.id, -1);
    conv.memberCount -= 1;
    await w.event(conv, 'member.removed', actor.id, { member: renderMember(target), left });
    const content = left ? `${target.displayName} left` : `${actor.displayName} removed ${target.displayName}`;
    await w.systemMessage(conv, { event: 'member.removed', actorId: actor.id, userIds: [target.userId] }, content);
    await refreshDedupeKey(w, conv);
  }

  async setRole(actor: Actor, conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<Member> {
    return writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      enforce(canChangeRole(actor, access.conv, access.facts), 'conversationId');
      const target = await w.tx.members.getView(conversationId, userId);
      if (!target) throw notFound('Member', 'userId');
      if (target.role === role) return renderMember(target);
      if (role === 'member') enforce(keepsAnOwner(target.role, await w.tx.members.countOwners(conversationId)), 'userId');
      await w.tx.members.setRole(conversationId, userId, role);
      if (usesAdminPower(actor, (a) => canChangeRole(a, access.conv, access.facts))) {
        await recordAudit(w.tx, actor, w.now, 'member.role_changed', { type: 'conversation', id: conversationId }, {
          userId,
          role,
          previousRole: target.role,
        });
      }
      const updated = { ...target, role };
      await w.event(access.conv, 'member.role_changed', actor.id, { member: renderMember(updated), previousRole: target.role });
      const content =
        role === 'owner'
          ? `${actor.displayName} made ${target.displayName} an owner`
          : `${actor.displayName} made ${target.displayName} a member`;
      await w.systemMessage(access.conv, { event: 'member.role_changed', actorId: actor.id, userIds: [userId], role }, content);
      return renderMember(updated);
    });
  }

  /** Joins a public room. Joining a conversation one is already in returns the membership as is. */
  async join(actor: Actor, conversationId: ConversationId): Promise<Member> {
    if (actor.kind === 'system') throw forbidden('The system account cannot join');
    return writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      enforce(canJoin(actor, access.conv, access.facts), 'conversationId');
      const existing = await w.tx.members.getView(conversationId, actor.id);
      if (existing) return renderMember(existing);
      const user = await w.tx.users.get(actor.id);
      if (!user) throw notFound('User');
      const [view] = await this.insertMembers(w, access.conv, actor, [{ user, role: 'member' }], false);
      return renderMember(view!);
    });
  }

  /** Removes a user from every conversation it is in (before the account is deleted). */
  async removeEverywhere(actor: Actor, userId: UserId): Promise<void> {
    const user = await this.ctx.store.users.get(userId);
    if (!user) throw notFound('User', 'userId');
    for (const conversationId of await this.ctx.store.members.listConversationIds(userId)) {
      await writeConversation(this.ctx, async (w) => {
        const conv = await w.tx.conversations.get(conversationId);
        const target = await w.tx.members.getView(conversationId, userId);
        if (!conv || !target) return;
        await this.#removeMember(w, { conv, member: target, facts: { role: target.role } }, actor, target, false);
      });
    }
  }
}

/** Direct and untitled group conversations are found again by their member set. */
export function dedupeKeyFor(conv: Pick<ConversationRecord, 'kind' | 'title'>, memberIds: readonly string[]): string | null {
  if (conv.kind === 'room' || (conv.kind === 'group' && conv.title !== null)) return null;
  return `${conv.kind}:${[...memberIds].sort().join(',')}`;
}

/** Recomputes a group's dedupe key after its membership or title changed; null when another group holds it. */
export async function refreshDedupeKey(w: ConversationWriter, conv: ConversationRecord): Promise<void> {
  if (conv.kind !== 'group') return;
  let key = dedupeKeyFor(conv, await w.tx.members.listUserIds(conv.id));
  if (key !== null) {
    const holder = await w.tx.conversations.getByDedupeKey(key);
    if (holder && holder.id !== conv.id) key = null;
  }
  if (key !== conv.dedupeKey) {
    await w.tx.conversations.update(conv.id, { dedupeKey: key });
    conv.dedupeKey = key;
  }
}
