import type { ParleyEventData, ParleyEventType, SystemContent } from '@parley/protocol';
import {
  newId,
  type ConversationId,
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

// Stands for the seq in a message rendered before it has one; never a real seq.
const SEQ_MARK = -1;

/**
 * Splits the JSON of `{ message }` (rendered with seq SEQ_MARK) where the seq goes. The seq follows the
 * message's id and conversation id, both ours, so the split cannot land in text a user wrote.
 */
function splitAtSeq(json: string, message: Pick<MessageRecord, 'id' | 'conversationId'>): [head: string, tail: string] {
  const head = `{"message":{"id":${JSON.stringify(message.id)},"conversationId":${JSON.stringify(message.conversationId)},"seq":`;
  if (!json.startsWith(`${head}${SEQ_MARK},`)) throw new Error('renderMessage must begin with id, conversationId and seq');
  return [head, json.slice(head.length + String(SEQ_MARK).length)];
}

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
    const draft: MessageRecord = {
      ...fields,
      id: newId('message', this.now),
      conversationId: conv.id,
      seq: SEQ_MARK,
      createdAt: this.now,
      version: 1,
      editedAt: null,
      deletedAt: null,
    };
    // The event carries the message, seq included, and the store learns the seq as it writes both.
    const data = splitAtSeq(JSON.stringify({ message: renderMessage(draft) }), draft);
    const event = this.#eventRecord(conv, 'message.created', draft.senderId, draft);
    const { seq, messageSeq } = await this.tx.messages.appendWithEvent({ message: draft, event, data });
    conv.lastSeq = seq;
    conv.lastMessageSeq = messageSeq;
    conv.lastActivityAt = this.now;
    this.pending.push({ ...event, seq, data: `${data[0]}${messageSeq}${data[1]}` });
    return { ...draft, seq: messageSeq };
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
    const event: EventRecord = { ...this.#eventRecord(conv, type, actorId, message, visibleTo), seq, data };
    await this.tx.events.append(event);
    this.pending.push(event);
    return event;
  }

  /** An event of this writer's time, about `message` when there is one (its visibility and author). */
  #eventRecord(
    conv: ConversationRecord,
    type: ParleyEventType,
    actorId: UserId | null,
    message: MessageRecord | null,
    visibleTo: UserId | null = null,
  ): Omit<EventRecord, 'seq' | 'data'> {
    return {
      id: newId('event', this.now),
      conversationId: conv.id,
      type,
      actorId,
      createdAt: this.now,
      messageId: message?.id ?? null,
      visibleTo: message?.visibleTo ?? visibleTo,
      authorId: message?.senderId ?? null,
      historyAt: message?.createdAt ?? this.now,
    };
  }
}

/**
 * Runs `fn` in one transaction with a writer, then publishes what it appended. `key`, the conversation
 * written, lets the store group the transaction's commit with others (see Store.transaction); only
 * transactions that write that one conversation may pass it. `independent`: see
 * TransactionOptions.independent.
 */
export async function writeConversation<T>(
  ctx: ServiceContext,
  fn: (w: ConversationWriter) => Promise<T>,
  key?: ConversationId,
  { independent = false }: { independent?: boolean } = {},
): Promise<T> {
  let pending: EventRecord[] = [];
  const now = ctx.clock();
  const result = await ctx.store.transaction(
    (tx) => {
      // A grouped transaction may run a second time (alone, after its batch failed): only the last run counts.
      pending = [];
      return fn(new ConversationWriter(tx, now, pending));
    },
    key === undefined ? {} : { key, independent },
  );
  for (const event of pending) ctx.bus.publish({ kind: 'event', event });
  return result;
}
