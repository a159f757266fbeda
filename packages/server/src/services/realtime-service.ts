import type {
  ListMembersQuery,
  MarkReadRequest,
  Page,
  ReadReceipt,
  SendSignalRequest,
  SignalResult,
  TypingResult,
} from '@parley/protocol';
import {
  badRequest,
  canPost,
  canRead,
  canSeeMessage,
  conflict,
  enforce,
  limitExceeded,
  notFound,
  pageSize,
  type Actor,
  type ConversationId,
  type MemberRecord,
  type MessageId,
  type UserId,
} from '../domain/index.js';
import { loadAccess, visibilityOf } from './access.js';
import { writeConversation } from './conversation-writer.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { iso } from './render.js';
import type { TokenBucketLimiter } from './rate-limiter.js';
import type { ServiceContext } from './service-context.js';

const isUserCursor = (v: unknown): v is { u: string } =>
  typeof v === 'object' && v !== null && typeof (v as { u?: unknown }).u === 'string';

function renderReceipt(m: MemberRecord): ReadReceipt {
  return {
    conversationId: m.conversationId,
    userId: m.userId,
    messageId: m.lastReadMessageId ?? '',
    messageSeq: m.lastReadSeq,
    readAt: iso(m.lastReadAt ?? 0),
  };
}

/** Typing notifications, read receipts and signals: what members tell each other about themselves. */
export class RealtimeService {
  readonly #lastTyping = new Map<string, number>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly limiter: TokenBucketLimiter,
  ) {}

  /**
   * Fans a typing notification out to the other members. Never stored; at most one per member and
   * conversation per `typingIntervalMs` (per process), others are answered `sent: false`.
   */
  async typing(actor: Actor, conversationId: ConversationId): Promise<TypingResult> {
    const access = await loadAccess(this.ctx.store, conversationId, actor);
    enforce(canPost(actor, access.conv, access.facts), 'conversationId');
    const now = this.ctx.clock();
    const key = `${conversationId}/${actor.id}`;
    const interval = this.ctx.limits.typingIntervalMs;
    const last = this.#lastTyping.get(key);
    if (last !== undefined && now - last < interval) return { sent: false, retryAfterMs: interval - (now - last) };
    this.#lastTyping.set(key, now);
    if (this.#lastTyping.size > 10_000) {
      for (const [k, at] of this.#lastTyping) if (now - at >= interval) this.#lastTyping.delete(k);
    }
    this.ctx.bus.publish({ kind: 'typing', conversationId, userId: actor.id, displayName: actor.displayName, at: now });
    return { sent: true, retryAfterMs: 0 };
  }

  /** Marks read up to a message (the newest when none is named). Positions only move forward. */
  async markRead(actor: Actor, conversationId: ConversationId, req: MarkReadRequest): Promise<ReadReceipt> {
    return writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      enforce(canRead(actor, access.conv, access.facts), 'conversationId');
      const member = access.member!;
      const viewer = visibilityOf(member);
      const message =
        req.messageId !== undefined
          ? await w.tx.messages.get(conversationId, req.messageId as MessageId)
          : (await w.tx.messages.listPage(conversationId, { order: 'desc', limit: 1, viewer }))[0];
      if (!message || !canSeeMessage(viewer, message)) throw notFound('Message', 'messageId');
      const moved = await w.tx.members.markRead(conversationId, actor.id, { seq: message.seq, messageId: message.id, at: w.now });
      if (!moved) return renderReceipt(member);
      const receipt = renderReceipt({ ...member, lastReadSeq: message.seq, lastReadMessageId: message.id, lastReadAt: w.now });
      await w.event(access.conv, 'receipt.read', actor.id, { receipt });
      return receipt;
    }, conversationId);
  }

  async listReceipts(actor: Actor, conversationId: ConversationId, query: ListMembersQuery): Promise<Page<ReadReceipt>> {
    const access = await loadAccess(this.ctx.store, conversationId, actor);
    enforce(canRead(actor, access.conv, access.facts), 'conversationId');
    const limit = pageSize(query.limit, 100, this.ctx.limits.maxMembersPageSize);
    const after = query.cursor === undefined ? undefined : (decodeCursor(query.cursor, isUserCursor).u as UserId);
    const rows = await this.ctx.store.members.listReceipts(conversationId, {
      limit: limit + 1,
      ...(after !== undefined ? { after } : { skip: query.skip ?? 0 }),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items: items.map(renderReceipt), nextCursor: rows.length > limit && last ? encodeCursor({ u: last.userId }) : null };
  }

  /** Sends a small JSON status to one member alone (stored, so it survives a reconnect). */
  async signal(actor: Actor, conversationId: ConversationId, req: SendSignalRequest): Promise<SignalResult> {
    const json = JSON.stringify(req.data ?? null);
    if (Buffer.byteLength(json) > this.ctx.limits.maxSignalBytes) {
      throw limitExceeded(`A signal may be at most ${this.ctx.limits.maxSignalBytes} bytes of JSON`, 'data');
    }
    this.limiter.take(actor.id);
    return writeConversation(this.ctx, async (w) => {
      const access = await loadAccess(w.tx, conversationId, actor);
      enforce(canRead(actor, access.conv, access.facts), 'conversationId');
      if (!access.conv.active) throw conflict('The conversation is deactivated; reactivate it first', 'conversationId');
      if (!(await w.tx.members.get(conversationId, req.to as UserId))) throw badRequest('"to" must be a member', 'to');
      const event = await w.event(
        access.conv,
        'signal',
        actor.id,
        { to: req.to, data: JSON.parse(json) as unknown },
        { visibleTo: req.to as UserId },
      );
      return { eventId: event.id, seq: event.seq };
    }, conversationId);
  }
}
