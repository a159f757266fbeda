import type { ParleyEventData, ParleyEventType, SystemContent } from '@parley/protocol';
import {
  newId,
  type ConversationRecord,
  type EventRecord,
  type MessageRecord,
  type UserId,
} from '../domain/index.js';
import type { Store } from '../store/index.js';
import { renderMessage } from './render.js';
import type { ServiceContext } from './service-context.js';

export const SYSTEM_USER_ID = 'usr_system' as UserId;
export const SYSTEM_DISPLAY_NAME = 'Parley';

type NewMessage = Omit<MessageRecord, 'id' | 'conversationId' | 'seq' | 'createdAt' | 'version' | 'editedAt' | 'deletedAt'>;

/**
 * The one write path of a conversation. Every change appends an event carrying the conversation's next
 * seq in the same transaction as the change; events are published on the bus only after commit.
 */
export class ConversationWriter {
  constructor(
    readonly tx: Store,
    readonly now: number,
    private readonly pending: EventRecord[],
  ) {}

  /** Appends an event of `type`; `data` is serialised here, once. */
  async event<K extends ParleyEventType>(
    conv: ConversationRecord,
    type: K,
    actorId: UserId | null,
    data: ParleyEventData<K>,
    options: { message?: MessageRecord; visibleTo?: UserId } = {},
  ): Promise<EventRecord> {
    const { seq } = await this.tx.conversations.nextSeq(conv.id, false, this.now);
    conv.lastSeq = seq;
    conv.lastActivityAt = this.now;
    return this.#append(conv, seq, type, actorId, JSON.stringify(data), options.message ?? null, options.visibleTo ?? null);
  }

  /** Appends a message and its `message.created` event, under one seq increment. */
  async message(conv: ConversationRecord, fields: NewMessage): Promise<MessageRecord> {
    const { seq, messageSeq } = await this.tx.conversations.nextSeq(conv.id, true, this.now);
    const message: MessageRecord = {
      ...fields,
      id: newId('message', this.now),
      conversationId: conv.id,
      seq: messageSeq,
      createdAt: this.now,
      version: 1,
      editedAt: null,
      deletedAt: null,
    };
    await this.tx.messages.append(message);
    conv.lastSeq = seq;
    conv.lastMessageSeq = messageSeq;
    conv.lastActivityAt = this.now;
    await this.#append(conv, seq, 'message.created', message.senderId, JSON.stringify({ message: renderMessage(message) }), message);
    return message;
  }

  /** A system message (conversation created, member added, …), readable in the message list. */
  systemMessage(conv: ConversationRecord, system: SystemContent, content: string): Promise<MessageRecord> {
    return this.message(conv, {
      type: 'system',
      content,
      senderId: SYSTEM_USER_ID,
      senderDisplayName: SYSTEM_DISPLAY_NAME,
      metadata: {},
      share: null,
      system,
      visibleTo: null,
      attachments: [],
      mentions: [],
    });
  }

  /**
   * Records an edit or delete of `message` (already updated in the store) and replaces the snapshot in
   * its earlier events, so that replaying the log never resurrects deleted or superseded content.
   */
  async messageChanged(
    conv: ConversationRecord,
    type: 'message.edited' | 'message.deleted',
    actorId: UserId,
    message: MessageRecord,
  ): Promise<EventRecord> {
    const data = JSON.stringify({ message: renderMessage(message) });
    await this.tx.events.rewriteMessageData(message.id, data);
    const { seq } = await this.tx.conversations.nextSeq(conv.id, false, this.now);
    conv.lastSeq = seq;
    conv.lastActivityAt = this.now;
    return this.#append(conv, seq, type, actorId, data, message);
  }

  async #append(
    conv: ConversationRecord,
    seq: number,
    type: ParleyEventType,
    actorId: UserId | null,
    data: string,
    message: MessageRecord | null,
    visibleTo: UserId | null = null,
  ): Promise<EventRecord> {
    const event: EventRecord = {
      id: newId('event', this.now),
      conversationId: conv.id,
      seq,
      type,
      actorId,
      createdAt: this.now,
      data,
      messageId: message?.id ?? null,
      visibleTo: message?.visibleTo ?? visibleTo,
      authorId: message?.senderId ?? null,
      historyAt: message?.createdAt ?? this.now,
    };
    await this.tx.events.append(event);
    this.pending.push(event);
    return event;
  }
}

/** Runs `fn` in one transaction with a writer, then publishes what it appended. */
export async function writeConversation<T>(ctx: ServiceContext, fn: (w: ConversationWriter) => Promise<T>): Promise<T> {
  const pending: EventRecord[] = [];
  const now = ctx.clock();
  const result = await ctx.store.transaction((tx) => fn(new ConversationWriter(tx, now, pending)));
  for (const event of pending) ctx.bus.publish({ kind: 'event', event });
  return result;
}
