import type { EditMessageRequest, ListMessagesQuery, Mention, Message, MessageType, Page, SendMessageRequest } from '@parley/protocol';
import {
  badRequest,
  canDeleteMessage,
  canEditMessage,
  canPost,
  canRead,
  canSeeMessage,
  checkMessageContent,
  checkMetadata,
  conflict,
  enforce,
  notFound,
  pageSize,
  type Actor,
  type ConversationId,
  type ConversationRecord,
  type MessageId,
  type MessageRecord,
  mentionedHandles,
} from '../domain/index.js';
import { isStoreConflict, type Store } from '../store/index.js';
import { loadAccess, visibilityOf } from './access.js';
import { pendingAttachmentsForSend, type AttachmentService } from './attachment-service.js';
import type { ConversationWriter } from './conversation-writer.js';
import { writeConversation } from './conversation-writer.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { sanitizeMessageHtml } from './html-sanitizer.js';
import { requestHash } from './idempotency.js';
import { draftMessage } from './message-drafts.js';
import { parseTime, renderConversationSnapshot, renderMessage } from './render.js';
import type { ServiceContext } from './service-context.js';
import { recordAudit, usesAdminPower } from './audit-log.js';
import type { TokenBucketLimiter } from './rate-limiter.js';

/** The result of a send, and whether it replays an earlier send with the same idempotency key. */
export interface SendResult {
  message: Message;
  replayed: boolean;
}

interface MessageCursor {
  o: 'asc' | 'desc';
  b?: number;
  a?: number;
  t?: number;
}

const isMessageCursor = (v: unknown): v is MessageCursor => {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  const optInt = (x: unknown) => x === undefined || (Number.isSafeInteger(x) && (x as number) >= 0);
  return (c['o'] === 'asc' || c['o'] === 'desc') && optInt(c['b']) && optInt(c['a']) && optInt(c['t']);
};

/** Sending, reading, editing and deleting messages. */
export class MessageService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly limiter: TokenBucketLimiter,
    private readonly attachments: AttachmentService,
  ) {}

  async send(
    actor: Actor,
    conversationId: ConversationId,
    req: SendMessageRequest,
    idempotencyKey?: string,
  ): Promise<SendResult> {
    const key = idempotencyKey ?? req.idempotencyKey;
    const scope = `message:${conversationId}`;
    const hash = key === undefined ? '' : requestHash({ ...req, idempotencyKey: undefined });
    if (key !== undefined) {
      const replay = await this.#replay(actor, conversationId, scope, key, hash);
      if (replay) return replay;
    }
    const draft = draftMessage(this.ctx.limits, actor, req);
    // After the replay check: retrying a send that already happened costs nothing.
    this.limiter.take(actor.id);
    try {
      const message = await writeConversation(this.ctx, async (w) => {
        const access = await loadAccess(w.tx, conversationId, actor);
        enforce(canPost(actor, access.conv, access.facts), 'conversationId');
        const sent = await this.appendDraft(w, access.conv, draft);
        if (key !== undefined) {
          await w.tx.idempotency.insert({ userId: actor.id, scope, key, requestHash: hash, resultId: sent.id, createdAt: w.now });
        }
        return sent;
        // Independent: a send reads only what no other send changes (the conversation's settings, memberships,
        // uploads) and takes its seq atomically; two sends racing for one upload or idempotency key make
        // their batch fail and run again one by one.
      }, conversationId, { independent: true });
      return { message: renderMessage(message), replayed: false };
    } catch (err) {
      // A concurrent request with the same key committed first: answer with its result.
      if (key !== undefined && isStoreConflict(err)) {
        const replay = await this.#replay(actor, conversationId, scope, key, hash);
        if (replay) return replay;
      }
      throw err;
    }
  }

  /** Appends a validated draft inside a running write (used by send and by create-with-first-message). */
  async appendDraft(w: ConversationWriter, conv: ConversationRecord, draft: ReturnType<typeof draftMessage>): Promise<MessageRecord> {
    if (draft.visibleTo !== null && !(await w.tx.members.get(conv.id, draft.visibleTo))) {
      throw badRequest('visibleTo must name a member of the conversation', 'visibleTo');
    }
    const { attachmentIds, ...fields } = draft;
    const attachments = await pendingAttachmentsForSend(w.tx, draft.senderId, conv.id, attachmentIds);
    const mentions = await resolveMentions(w.tx, conv.id, fields.type, fields.content);
    const message = await w.message(conv, { ...fields, attachments, mentions });
    try {
      await w.tx.attachments.bindToMessage(attachmentIds, message.id);
    } catch (err) {
      // Another send took the same upload between our check and the bind.
      if (isStoreConflict(err)) throw conflict('An attachment was already sent with another message', 'attachments');
      throw err;
    }
    return message;
  }

  async #replay(actor: Actor, conversationId: ConversationId, scope: string, key: string, hash: string): Promise<SendResult | undefined> {
    const record = await this.ctx.store.idempotency.get(actor.id, scope, key);
    if (!record) return undefined;
    if (record.requestHash !== hash) throw conflict('This idempotency key was used for a different request', 'idempotencyKey');
    const message = await this.ctx.store.messages.get(conversationId, record.resultId as MessageId);
    if (!message) throw notFound('Message', 'idempotencyKey');
    return { message: renderMessage(message), replayed: true };
  }

  async get(actor: Actor, conversationId: ConversationId, messageId: MessageId): Promise<Message> {
    const access = await loadAccess(this.ctx.store, conversationId, actor);
    enforce(canRead(actor, access.conv, access.facts), 'conversationId');
    const message = await this.ctx.store.messages.get(conversationId, messageId);
    if (!message || !canSeeMessage(visibilityOf(access.member!), message)) throw notFound('Message', 'messageId');
    return renderMessage(message);
  }

  async list(actor: Actor, conversationId: ConversationId, query: ListMessagesQuery): Promise<Page<Message>> {
    const access = await loadAccess(this.ctx.store, conversationId, actor);
    enforce(canRead(actor, access.conv, access.facts), 'conversationId');
    const limits = this.ctx.limits;
    const limit = pageSize(query.limit, limits.defaultPageSize, limits.maxPageSize);
    const c: MessageCursor =
      query.cursor !== undefined
        ? decodeCursor(query.cursor, isMessageCursor)
        : {
            o: query.order ?? 'desc',
            ...(query.before !== undefined ? { b: query.before } : {}),
            ...(query.after !== undefined ? { a: query.after } : {}),
            ...(query.startTime !== undefined ? { t: parseTime(query.startTime, 'startTime') } : {}),
          };
    const rows = await this.ctx.store.messages.listPage(conversationId, {
      order: c.o,
      limit: limit + 1,
      viewer: visibilityOf(access.member!),
      ...(c.b !== undefined ? { beforeSeq: c.b } : {}),
      ...(c.a !== undefined ? { afterSeq: c.a } : {}),
      ...(c.t !== undefined ? { startTime: c.t } : {}),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    let nextCursor: string | null = null;
    if (rows.length > limit && last) {
      nextCursor = encodeCursor(c.o === 'desc' ? { ...c, b: last.seq } : { ...c, a: last.seq });
    }
    return { items: items.map(renderMessage), nextCursor };
  }

  async edit(actor: Actor, conversationId: ConversationId, messageId: MessageId, req: EditMessageRequest): Promise<Message> {
    checkMetadata(this.ctx.limits, req.metadata);
    const message = await writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      const message = await w.tx.messages.get(conversationId, messageId);
      if (!message || (access.member && !canSeeMessage(visibilityOf(access.member), message))) {
        enforce(canRead(actor, access.conv, access.facts), 'conversationId');
        throw notFound('Message', 'messageId');
      }
      enforce(canEditMessage(actor, access.conv, access.facts, message), 'messageId');
      const patch: Partial<MessageRecord> = { version: message.version + 1, editedAt: w.now };
      if (req.content !== undefined) {
        if (message.type === 'share') throw badRequest('Shared content cannot have its text edited', 'content');
        checkMessageContent(this.ctx.limits, req.content);
        patch.content = message.type === 'html' ? sanitizeMessageHtml(req.content) : req.content;
        if (patch.content.trim() === '') throw badRequest('The HTML has no content left after sanitising', 'content');
        patch.mentions = await resolveMentions(w.tx, conversationId, message.type, patch.content);
      }
      if (req.metadata !== undefined) patch.metadata = req.metadata;
      await w.tx.messages.update(message.id, patch);
      const updated = { ...message, ...patch };
      await w.messageChanged(access.conv, 'message.edited', actor.id, updated);
      return updated;
    }, conversationId);
    return renderMessage(message);
  }

  async delete(actor: Actor, conversationId: ConversationId, messageId: MessageId): Promise<void> {
    const released = await writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      const message = await w.tx.messages.get(conversationId, messageId);
      if (!message || (access.member && !canSeeMessage(visibilityOf(access.member), message))) {
        enforce(canRead(actor, access.conv, access.facts), 'conversationId');
        throw notFound('Message', 'messageId');
      }
      enforce(canDeleteMessage(actor, access.conv, access.facts, message), 'messageId');
      if (message.deletedAt !== null) return []; // deleting twice is a no-op, not an error
      if (usesAdminPower(actor, (a) => canDeleteMessage(a, access.conv, access.facts, message))) {
        await recordAudit(w.tx, actor, w.now, 'message.deleted', { type: 'message', id: message.id }, {
          conversationId,
          senderId: message.senderId,
        });
      }
      const patch = { content: '', metadata: {}, share: null, attachments: [], mentions: [], deletedAt: w.now };
      await w.tx.messages.update(message.id, patch);
      const released = await w.tx.attachments.releaseForMessage(message.id, w.now);
      await w.messageChanged(access.conv, 'message.deleted', actor.id, { ...message, ...patch });
      if (access.conv.pinnedMessageId === message.id) {
        const conv = access.conv;
        conv.pinnedMessageId = null;
        conv.updatedAt = w.now;
        await w.tx.conversations.update(conv.id, { pinnedMessageId: null, updatedAt: w.now });
        await w.event(conv, 'conversation.updated', actor.id, {
          conversation: renderConversationSnapshot(conv),
          changes: ['pinnedMessageId'],
        });
      }
      return released;
    }, conversationId);
    // After commit: the files are unreachable already; a failure here leaves them to the sweeper.
    await this.attachments.purge(released).catch(() => {});
  }
}

/** The members a message names with `@handle`; handles of non-members (or of nobody) stay plain text. */
async function resolveMentions(tx: Store, conversationId: ConversationId, type: MessageType, content: string): Promise<Mention[]> {
  const mentions: Mention[] = [];
  for (const handle of mentionedHandles(type, content)) {
    const user = await tx.users.getByHandle(handle);
    if (user && (await tx.members.get(conversationId, user.id))) mentions.push({ userId: user.id, handle: user.handle });
  }
  return mentions;
}
