import type {
  Conversation,
  ConversationKind,
  CreateConversationRequest,
  CreateConversationResult,
  ListConversationsQuery,
  Page,
  UpdateConversationRequest,
} from '@parley/protocol';
import { CONVERSATION_KINDS } from '@parley/protocol';
import {
  actsAsAdmin,
  badRequest,
  canDeleteConversation,
  canSetActive,
  canUpdate,
  canView,
  checkLength,
  checkMetadata,
  conflict,
  enforce,
  forbidden,
  limitExceeded,
  newId,
  notFound,
  pageSize,
  type Actor,
  type ConversationId,
  type ConversationRecord,
  type MessageId,
  type UserId,
  type UserRecord,
} from '../domain/index.js';
import { isStoreConflict, type ConversationFilter, type ConversationSort } from '../store/index.js';
import { callerView, loadAccess, joinNames } from './access.js';
import { writeConversation, type ConversationWriter } from './conversation-writer.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { requestHash } from './idempotency.js';
import { draftMessage } from './message-drafts.js';
import type { MessageService } from './message-service.js';
import { dedupeKeyFor, newMember, normaliseSpec, refreshDedupeKey, unfitMember, type MemberService, type NewMember } from './member-service.js';
import { parseTime, renderConversation, renderConversationSnapshot, renderMessage } from './render.js';
import type { ServiceContext } from './service-context.js';
import { recordAudit, usesAdminPower } from './audit-log.js';
import { requireAdmin } from './identity-service.js';

const ROOM_ONLY = ['public', 'discoverable', 'readOnly', 'keywords'] as const;

/** The attributes shared by create and update requests. */
type AttributeInput = Omit<Partial<UpdateConversationRequest>, 'title'> & { title?: string | null };

interface ListCursor {
  s: ConversationSort;
  k: [number, string];
  f: ConversationFilter;
}
const isListCursor = (v: unknown): v is ListCursor => {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    (c['s'] === 'created' || c['s'] === 'activity') &&
    Array.isArray(c['k']) &&
    Number.isSafeInteger(c['k'][0]) &&
    typeof c['k'][1] === 'string' &&
    isListFilter(c['f'])
  );
};

/** A cursor's filter, checked field by field: a forged cursor must not put text where the database wants numbers. */
function isListFilter(v: unknown): v is ConversationFilter {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  const optional = (key: string, ok: (x: unknown) => boolean) => f[key] === undefined || ok(f[key]);
  return (
    optional('kind', (x) => (CONVERSATION_KINDS as readonly unknown[]).includes(x)) &&
    optional('active', (x) => typeof x === 'boolean') &&
    optional('updatedSince', Number.isSafeInteger) &&
    optional('activeSince', Number.isSafeInteger) &&
    optional('title', (x) => typeof x === 'string')
  );
}

/** Creating, reading, changing and deleting conversations. */
export class ConversationService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly members: MemberService,
    private readonly messages: MessageService,
  ) {}

  async create(actor: Actor, req: CreateConversationRequest, idempotencyKey?: string): Promise<CreateConversationResult> {
    const key = idempotencyKey ?? req.idempotencyKey;
    const hash = key === undefined ? '' : requestHash({ ...req, idempotencyKey: undefined });
    if (key !== undefined) {
      const replay = await this.#replay(actor, key, hash);
      if (replay) return replay;
    }
    this.#checkAttributes(req.kind, req, true);
    const includeCreator = req.includeCreator ?? true;
    if (!includeCreator && (!actsAsAdmin(actor) || req.kind === 'room')) {
      throw forbidden(
        req.kind === 'room' ? 'A room is always created with its creator as owner' : 'Only admins can create conversations they are not in',
        'includeCreator',
      );
    }
    const newMembers = await this.#resolveMembers(actor, req, includeCreator);
    const firstMessage = req.message === undefined ? undefined : draftMessage(this.ctx.limits, actor, req.message, 'message.');
    const now = this.ctx.clock();
    const conv: ConversationRecord = {
      id: newId('conversation', now),
      kind: req.kind,
      title: req.title ?? null,
      description: req.description ?? '',
      keywords: req.keywords ?? [],
      public: req.public ?? false,
      discoverable: req.discoverable ?? req.public ?? false,
      readOnly: req.readOnly ?? false,
      membersCanInvite: req.membersCanInvite ?? req.kind !== 'room',
      historyVisibleToNewMembers: req.historyVisibleToNewMembers ?? req.kind !== 'room',
      pinnedMessageId: null,
      active: true,
      metadata: req.metadata ?? {},
      retentionPolicy: req.retentionPolicy ?? null,
      createdBy: actor.id,
      createdAt: now,
      updatedAt: now,
      lastActivityAt: now,
      lastSeq: 0,
      lastMessageSeq: 0,
      memberCount: 0,
      dedupeKey: null,
    };
    conv.dedupeKey = dedupeKeyFor(conv, newMembers.map((m) => m.user.id));

    if (conv.dedupeKey !== null) {
      const existing = await this.ctx.store.conversations.getByDedupeKey(conv.dedupeKey);
      if (existing) return this.#reopen(actor, existing, req, key, hash);
    }
    try {
      return await writeConversation(this.ctx, async (w) => {
        await w.tx.conversations.insert(conv);
        await w.event(conv, 'conversation.created', actor.id, { conversation: renderConversationSnapshot(conv), changes: [] });
        const others = newMembers.filter((m) => m.user.id !== actor.id).map((m) => m.user.displayName);
        const what = conv.kind === 'room' ? `the room "${conv.title ?? ''}"` : 'the conversation';
        await w.systemMessage(
          conv,
          { event: 'conversation.created', actorId: actor.id, userIds: newMembers.map((m) => m.user.id), title: conv.title },
          `${actor.displayName} created ${what}${includeCreator ? '' : ` for ${joinNames(others)}`}`,
        );
        await this.members.insertMembers(w, conv, actor, newMembers, true);
        const message = firstMessage === undefined ? null : await this.messages.appendDraft(w, conv, firstMessage);
        if (key !== undefined) {
          await w.tx.idempotency.insert({
            userId: actor.id,
            scope: 'conversation',
            key,
            requestHash: hash,
            resultId: message ? `${conv.id}/${message.id}` : conv.id,
            createdAt: w.now,
          });
        }
        return {
          conversation: renderConversation(
            conv,
            includeCreator ? { role: conv.kind === 'direct' ? 'member' : 'owner', lastReadSeq: 0, unreadCount: 0 } : null,
          ),
          message: message && renderMessage(message),
          created: true,
        };
      });
    } catch (err) {
      if (!isStoreConflict(err)) throw err;
      // Lost a race: the same idempotency key, or the same direct/group member set, committed first.
      if (key !== undefined) {
        const replay = await this.#replay(actor, key, hash);
        if (replay) return replay;
      }
      const existing = conv.dedupeKey === null ? undefined : await this.ctx.store.conversations.getByDedupeKey(conv.dedupeKey);
      if (existing) return this.#reopen(actor, existing, req, key, hash);
      throw err;
    }
  }

  /** Opening an existing direct or group conversation again: returns it, and sends the first message if given. */
  async #reopen(
    actor: Actor,
    existing: ConversationRecord,
    req: CreateConversationRequest,
    key: string | undefined,
    hash: string,
  ): Promise<CreateConversationResult> {
    const access = await loadAccess(this.ctx.store, existing.id, actor);
    const myRole = access.member?.role ?? null;
    let message = null;
    if (req.message !== undefined) {
      if (!myRole) throw forbidden('Only members can post in this conversation', 'message');
      message = (await this.messages.send(actor, existing.id, req.message, key === undefined ? undefined : `create:${key}`)).message;
    }
    if (key !== undefined) {
      try {
        await this.ctx.store.idempotency.insert({
          userId: actor.id,
          scope: 'conversation',
          key,
          requestHash: hash,
          resultId: message ? `${existing.id}/${message.id}` : existing.id,
          createdAt: this.ctx.clock(),
        });
      } catch (err) {
        if (!isStoreConflict(err)) throw err;
      }
    }
    const current = await loadAccess(this.ctx.store, existing.id, actor);
    return { conversation: renderConversation(current.conv, await callerView(this.ctx.store, current)), message, created: false };
  }

  async #replay(actor: Actor, key: string, hash: string): Promise<CreateConversationResult | undefined> {
    const record = await this.ctx.store.idempotency.get(actor.id, 'conversation', key);
    if (!record) return undefined;
    if (record.requestHash !== hash) throw conflict('This idempotency key was used for a different request', 'idempotencyKey');
    const [conversationId, messageId] = record.resultId.split('/') as [ConversationId, MessageId | undefined];
    const access = await loadAccess(this.ctx.store, conversationId, actor).catch(() => {
      throw notFound('Conversation', 'idempotencyKey');
    });
    const message = messageId === undefined ? undefined : await this.ctx.store.messages.get(conversationId, messageId);
    return {
      conversation: renderConversation(access.conv, await callerView(this.ctx.store, access)),
      message: message ? renderMessage(message) : null,
      created: true,
    };
  }

  async #resolveMembers(actor: Actor, req: CreateConversationRequest, includeCreator: boolean): Promise<NewMember[]> {
    const explicit = (req.members ?? []).map(normaliseSpec);
    if (explicit.length > this.ctx.limits.maxMembersPerRequest) {
      throw limitExceeded(`At most ${this.ctx.limits.maxMembersPerRequest} members can be added at once`, 'members');
    }
    if (req.kind === 'direct' && req.groups !== undefined) throw badRequest('A direct conversation takes one other user, not groups', 'groups');
    const specs = await this.members.withGroupMembers(actor, explicit, req.groups);
    const users = new Map((await this.ctx.store.users.getMany([actor.id, ...specs.map((s) => s.userId)])).map((u) => [u.id, u]));
    const result = new Map<UserId, NewMember>();
    if (includeCreator) {
      const creator = users.get(actor.id);
      if (!creator || creator.kind === 'system') throw forbidden('This account cannot create conversations');
      result.set(actor.id, { user: creator, role: req.kind === 'direct' ? 'member' : 'owner' });
    }
    for (const [i, spec] of specs.entries()) {
      const user = users.get(spec.userId);
      const unfit = unfitMember(user);
      if (unfit) {
        const error = unfit.code === 'not_found' ? notFound(`User ${spec.userId}`, `members[${i}]`) : forbidden(unfit.message, `members[${i}]`);
        throw error;
      }
      if (spec.role === 'owner' && req.kind !== 'room') throw badRequest('Only rooms have owners', `members[${i}].role`);
      const already = result.get(spec.userId);
      if (already) {
        // Duplicates are ignored, as Symphony does; but a creator naming itself may give its name here (ACS).
        if (already.nickname === undefined && spec.nickname !== undefined) already.nickname = spec.nickname;
        continue;
      }
      result.set(spec.userId, newMember(user as UserRecord, spec));
    }
    const count = result.size;
    if (req.kind === 'direct' && count !== 2) {
      throw badRequest('A direct conversation is between exactly two different users', 'members');
    }
    if (req.kind === 'group' && count < 2) throw badRequest('A group conversation needs at least two users', 'members');
    if (count > this.ctx.limits.maxMembersPerConversation) {
      throw limitExceeded(`A conversation may have at most ${this.ctx.limits.maxMembersPerConversation} members`, 'members');
    }
    return [...result.values()];
  }

  #checkAttributes(kind: ConversationKind, req: AttributeInput, creating: boolean): void {
    const limits = this.ctx.limits;
    if (kind !== 'room') {
      for (const field of ROOM_ONLY) {
        if (req[field] !== undefined) throw badRequest(`"${field}" applies to rooms only`, field);
      }
    } else if ((creating && req.title === undefined) || req.title === null) {
      throw badRequest('A room needs a title', 'title');
    }
    if (typeof req.title === 'string' && req.title.trim() === '') throw badRequest('The title must not be blank', 'title');
    checkLength(limits.maxTitleLength, req.title, 'title');
    checkLength(limits.maxDescriptionLength, req.description, 'description');
    if (req.keywords && req.keywords.length > limits.maxKeywords) {
      throw limitExceeded(`At most ${limits.maxKeywords} keywords`, 'keywords');
    }
    checkMetadata(limits, req.metadata);
  }

  async get(actor: Actor, conversationId: ConversationId): Promise<Conversation> {
    const access = await loadAccess(this.ctx.store, conversationId, actor);
    enforce(canView(actor, access.conv, access.facts), 'conversationId');
    return renderConversation(access.conv, await callerView(this.ctx.store, access));
  }

  async list(actor: Actor, query: ListConversationsQuery): Promise<Page<Conversation>> {
    const limit = pageSize(query.limit, this.ctx.limits.defaultPageSize, this.ctx.limits.maxPageSize);
    let sort: ConversationSort = query.sort ?? 'created';
    let filter: ConversationFilter = {
      ...(query.kind !== undefined ? { kind: query.kind } : {}),
      ...(query.active !== undefined ? { active: query.active } : {}),
      ...(query.updatedSince !== undefined ? { updatedSince: parseTime(query.updatedSince, 'updatedSince') } : {}),
      ...(query.activeSince !== undefined ? { activeSince: parseTime(query.activeSince, 'activeSince') } : {}),
      ...(query.title !== undefined ? { title: query.title } : {}),
    };
    let after: readonly [number, ConversationId] | undefined;
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor, isListCursor);
      sort = c.s;
      filter = c.f;
      after = [c.k[0], c.k[1] as ConversationId];
    }
    const rows = await this.ctx.store.conversations.listForMember(actor.id, filter, sort, {
      limit: limit + 1,
      ...(after ? { after } : { skip: query.skip ?? 0 }),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1)?.conversation;
    const nextCursor =
      rows.length > limit && last
        ? encodeCursor({ s: sort, k: [sort === 'created' ? last.createdAt : last.lastActivityAt, last.id], f: filter })
        : null;
    return { items: items.map((r) => renderConversation(r.conversation, r)), nextCursor };
  }

  async update(actor: Actor, conversationId: ConversationId, req: UpdateConversationRequest): Promise<Conversation> {
    return writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      const { conv } = access;
      enforce(canUpdate(actor, conv, access.facts), 'conversationId');
      this.#checkAttributes(conv.kind, req, false);
      if (req.pinnedMessageId !== undefined && req.pinnedMessageId !== null) {
        const pinned = await w.tx.messages.get(conv.id, req.pinnedMessageId as MessageId);
        if (!pinned || pinned.deletedAt !== null || pinned.visibleTo !== null) {
          throw notFound('Message to pin', 'pinnedMessageId');
        }
      }
      const changes: string[] = [];
      const patch: Partial<ConversationRecord> = {};
      const set = <K extends keyof ConversationRecord>(field: K, value: ConversationRecord[K] | undefined): void => {
        if (value === undefined || JSON.stringify(conv[field]) === JSON.stringify(value)) return;
        patch[field] = value;
        changes.push(field);
      };
      const previousTitle = conv.title;
      set('title', req.title);
      set('description', req.description);
      set('keywords', req.keywords);
      set('public', req.public);
      set('discoverable', req.discoverable);
      set('readOnly', req.readOnly);
      set('membersCanInvite', req.membersCanInvite);
      set('historyVisibleToNewMembers', req.historyVisibleToNewMembers);
      set('metadata', req.metadata);
      set('retentionPolicy', req.retentionPolicy);
      set('pinnedMessageId', req.pinnedMessageId as MessageId | null | undefined);
      if (changes.length === 0) return renderConversation(conv, await callerView(w.tx, access));
      patch.updatedAt = w.now;
      if (usesAdminPower(actor, (a) => canUpdate(a, conv, access.facts))) {
        await recordAudit(w.tx, actor, w.now, 'conversation.updated', { type: 'conversation', id: conv.id }, { kind: conv.kind, changes });
      }
      await w.tx.conversations.update(conv.id, patch);
      Object.assign(conv, patch);
      await w.event(conv, 'conversation.updated', actor.id, { conversation: renderConversationSnapshot(conv), changes });
      if (changes.includes('title')) {
        const content = conv.title === null ? `${actor.displayName} removed the title` : `${actor.displayName} changed the title to "${conv.title}"`;
        await w.systemMessage(conv, { event: 'title.changed', actorId: actor.id, title: conv.title, previousTitle }, content);
        await refreshDedupeKey(w, conv);
      }
      return renderConversation(conv, await callerView(w.tx, access));
    });
  }

  /**
   * Deactivates (read-only history, no new messages or members) or reactivates a room. `asAdmin` is the
   * admin door (any room, always audited); otherwise an admin's change is audited when only its admin
   * powers allowed it.
   */
  async setActive(actor: Actor, conversationId: ConversationId, active: boolean, options: { asAdmin?: boolean } = {}): Promise<Conversation> {
    if (options.asAdmin) requireAdmin(actor);
    return writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      const { conv } = access;
      enforce(canSetActive(actor, conv, access.facts), 'conversationId');
      if (conv.active === active) return renderConversation(conv, await callerView(w.tx, access));
      conv.active = active;
      conv.updatedAt = w.now;
      await w.tx.conversations.update(conv.id, { active, updatedAt: w.now });
      const type = active ? 'conversation.reactivated' : 'conversation.deactivated';
      if (options.asAdmin || usesAdminPower(actor, (a) => canSetActive(a, conv, access.facts))) {
        await recordAudit(w.tx, actor, w.now, type, { type: 'conversation', id: conv.id }, { kind: conv.kind, title: conv.title });
      }
      await w.event(conv, type, actor.id, { conversation: renderConversationSnapshot(conv), changes: ['active'] });
      await w.systemMessage(
        conv,
        { event: type, actorId: actor.id },
        `${actor.displayName} ${active ? 'reactivated' : 'deactivated'} the room`,
      );
      return renderConversation(conv, await callerView(w.tx, access));
    });
  }

  async delete(actor: Actor, conversationId: ConversationId): Promise<void> {
    await writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      enforce(canDeleteConversation(actor, access.conv, access.facts), 'conversationId');
      if (usesAdminPower(actor, (a) => canDeleteConversation(a, access.conv, access.facts))) {
        const { conv } = access;
        await recordAudit(w.tx, actor, w.now, 'conversation.deleted', { type: 'conversation', id: conv.id }, { kind: conv.kind, title: conv.title });
      }
      await deleteNow(w, access.conv, actor.id);
    });
  }

  /**
   * Deletes the conversations whose retention policy has run out, in batches; the server sweeps
   * periodically. The `conversation.deleted` event has no actor: nobody deleted it, time did.
   */
  async deleteRetentionDue(batch = 100): Promise<number> {
    let deleted = 0;
    for (;;) {
      const due = await this.ctx.store.conversations.listRetentionDue(this.ctx.clock(), batch);
      for (const id of due) {
        await writeConversation(this.ctx, async (w) => {
          const conv = await w.tx.conversations.get(id);
          if (conv) await deleteNow(w, conv, null);
        });
      }
      deleted += due.length;
      if (due.length < batch) return deleted;
    }
  }
}

async function deleteNow(w: ConversationWriter, conv: ConversationRecord, actorId: UserId | null): Promise<void> {
  await w.event(conv, 'conversation.deleted', actorId, { conversation: renderConversationSnapshot(conv), changes: [] });
  await w.tx.conversations.markDeleted(conv.id, w.now);
}
