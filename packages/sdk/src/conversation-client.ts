import type {
  AddMembersResult,
  Attachment,
  Conversation,
  EditMessageRequest,
  Member,
  MemberRole,
  MemberSpec,
  MessageSearchHit,
  Message,
  Metadata,
  ParleyEvent,
  ReadReceipt,
  SendMessageRequest,
  ShareContent,
  SignalResult,
  TypingResult,
  UpdateConversationRequest,
} from '@parley/protocol';
import { randomId, type HttpPipeline, type OperationOptions, type RawBody } from './http-pipeline.js';
import { cursorList } from './cursor-list.js';
import { LiveConversation, type LiveConversationOptions } from './live-conversation.js';
import { pagedIterable, type PagedAsyncIterable, type PagingOptions } from './paging.js';
import { ParleyApiError } from './parley-api-error.js';
import type { AdminOperationOptions, SearchMessagesOptions } from './client-options.js';
import type { ParleyClient } from './parley-client.js';

/** Options of {@link ConversationClient.listMembers}. */
export interface ListMembersOptions extends AdminOperationOptions, PagingOptions {
  /** Skip this many before the first page (ACS `skip`, Symphony `skip`). */
  skip?: number;
}

/** Options of {@link ConversationClient.listReadReceipts}. */
export type ListReadReceiptsOptions = Omit<ListMembersOptions, 'asAdmin'>;

/** Options of {@link ConversationClient.addMembers}. */
export interface AddMembersOptions extends OperationOptions {
  /** Groups whose current members are added too (bots: public groups only). */
  groups?: readonly string[];
}

/** What {@link ConversationClient.uploadAttachment} sends: a file's bytes, read as they are sent. */
export type AttachmentData = Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Options of {@link ConversationClient.uploadAttachment}. */
export interface UploadAttachmentOptions extends OperationOptions {
  /** The file name shown and used for downloads (default: a `File`'s name, else `file` and the detected extension). */
  name?: string;
  /** A voice note: the bytes must be audio, and the voice limit applies. */
  voice?: boolean;
}

/** Options of {@link ConversationClient.downloadAttachment}. */
export interface DownloadAttachmentOptions extends OperationOptions {
  /** The image's thumbnail (WebP, at most 320×320) instead of the file. */
  thumbnail?: boolean;
  /** Start at this byte (default 0): asks for a range. */
  offset?: number;
  /** Only this many bytes from `offset` (default: to the end). */
  count?: number;
}

/** A download: the bytes as a stream and what the server said about them. */
export interface AttachmentDownload {
  /** 200 for the whole file, 206 for a range. */
  status: 200 | 206;
  /** The bytes; read it to the end or cancel it. `new Response(body).blob()` collects it. */
  body: ReadableStream<Uint8Array>;
  /** The detected type, e.g. `image/png`. */
  contentType: string;
  /** Bytes in `body`. */
  contentLength: number;
  /** The quoted SHA-256 of the file, for caching. */
  etag: string | undefined;
  /** For a range: the first and last byte sent and the file's size. */
  range: { start: number; end: number; size: number } | undefined;
}

/** Options of {@link ConversationClient.sendMessage}. */
export interface SendMessageOptions extends OperationOptions {
  /** `text` (default) or `html` (sanitised by the server). */
  type?: 'text' | 'html';
  /** Ids of your pending uploads to this conversation (see {@link ConversationClient.uploadAttachment}). */
  attachments?: readonly string[];

  /** A string map stored with the message (ACS `metadata`). */
  metadata?: Metadata;
  /** The name shown for the sender on this message (ACS `sender_display_name`). */
  senderDisplayName?: string;
  /** Only this member sees the message (e.g. a message for one bot). */
  visibleTo?: string;
  /**
   * Makes a retried send return the first message instead of sending twice. The SDK sets a fresh one for
   * every call when none is given, so its own retries never duplicate a message.
   */
  idempotencyKey?: string;
}

/** Options of {@link ConversationClient.sendShare}. */
export type SendShareOptions = Omit<SendMessageOptions, 'type' | 'attachments'> & {
  /** Text shown with the shared content. */
  content?: string;
};

/** Options of {@link ConversationClient.listMessages}. */
export interface ListMessagesOptions extends OperationOptions, PagingOptions {
  /** `desc` (newest first, the default) or `asc`. */
  order?: 'asc' | 'desc';
  /** Only messages with seq below this. */
  before?: number;
  /** Only messages with seq above this. */
  after?: number;
  /** Only messages sent at or after this time (ACS `start_time`). */
  startTime?: Date | string;
}

/** Options of {@link ConversationClient.listEvents}. */
export interface ListEventsOptions extends OperationOptions, PagingOptions {
  /** Only events with seq above this (default 0: from the start). */
  after?: number;
}

/** Options of {@link ConversationClient.sendReadReceipt}. */
export interface SendReadReceiptOptions extends OperationOptions {
  /** Read up to this message; the newest when omitted. */
  messageId?: string;
}

/**
 * One conversation's operations: members, messages, events, typing, receipts, signals and a live view.
 * Get one with `client.conversation(id)`; it holds no state and makes no request until used.
 *
 * @example
 * ```ts
 * const conv = client.conversation(conversationId);
 * await conv.sendMessage('Hello!', { metadata: { topic: 'greeting' } });
 * for await (const m of conv.listMessages({ order: 'asc', maxItems: 100 })) console.log(m.seq, m.content);
 * ```
 */
export class ConversationClient {
  /** The conversation's id. */
  readonly id: string;
  readonly #pipeline: HttpPipeline;
  readonly #client: ParleyClient;
  readonly #path: string;

  /** Use `client.conversation(id)` instead. */
  constructor(client: ParleyClient, pipeline: HttpPipeline, id: string) {
    if (id === '') throw new TypeError('A conversation id must not be empty');
    this.id = id;
    this.#client = client;
    this.#pipeline = pipeline;
    this.#path = `/v1/conversations/${encodeURIComponent(id)}`;
  }

  // ---- the conversation itself ----------------------------------------------------------------------

  /** The conversation (`GET /v1/conversations/{id}`). */
  get(options: OperationOptions = {}): Promise<Conversation> {
    return this.#pipeline.send({ method: 'GET', path: this.#path, repeatable: true, signal: options.signal });
  }

  /** Changes attributes; only the fields given change (`PATCH /v1/conversations/{id}`). */
  update(changes: UpdateConversationRequest, options: OperationOptions = {}): Promise<Conversation> {
    return this.#pipeline.send({ method: 'PATCH', path: this.#path, body: changes, repeatable: true, signal: options.signal });
  }

  /** Deletes the conversation (owner or admin). */
  async delete(options: OperationOptions = {}): Promise<void> {
    await this.#pipeline.send({ method: 'DELETE', path: this.#path, repeatable: true, signal: options.signal });
  }

  /**
   * Deactivates a room: history stays readable, no new messages or members. Owners; an admin who is
   * not one passes `asAdmin: true`.
   */
  deactivate(options: AdminOperationOptions = {}): Promise<Conversation> {
    return this.#pipeline.send({ method: 'POST', path: `${this.#pathFor(options)}/deactivate`, repeatable: false, signal: options.signal });
  }

  /** Reactivates a deactivated room. Owners; an admin who is not one passes `asAdmin: true`. */
  reactivate(options: AdminOperationOptions = {}): Promise<Conversation> {
    return this.#pipeline.send({ method: 'POST', path: `${this.#pathFor(options)}/reactivate`, repeatable: false, signal: options.signal });
  }

  /** Joins a public room; resolves to the new membership. */
  join(options: OperationOptions = {}): Promise<Member> {
    return this.#pipeline.send({ method: 'POST', path: `${this.#path}/join`, repeatable: false, signal: options.signal });
  }

  /** Leaves a group or room (a room's last owner must promote someone first). */
  async leave(options: OperationOptions = {}): Promise<void> {
    await this.#pipeline.send({ method: 'POST', path: `${this.#path}/leave`, repeatable: false, signal: options.signal });
  }

  // ---- members --------------------------------------------------------------------------------------

  /**
   * The members, oldest first. An admin lists any conversation's members with `asAdmin: true`
   * (Symphony `list_room_members` as an admin).
   */
  listMembers(options: ListMembersOptions = {}): PagedAsyncIterable<Member> {
    return cursorList<Member>(this.#pipeline, { path: `${this.#pathFor(options)}/members`, filters: { skip: options.skip } }, options);
  }

  /**
   * Adds members, and with `groups` the current members of those groups; those already present stay
   * as they are. Participants that could not be added are reported in `failures` (each with its
   * error), not thrown: retry just those (ACS `add_participants`).
   */
  addMembers(members: readonly MemberSpec[], options: AddMembersOptions = {}): Promise<AddMembersResult> {
    const body = {
      ...(members.length > 0 || options.groups === undefined ? { members } : {}),
      ...(options.groups !== undefined ? { groups: options.groups } : {}),
    };
    return this.#pipeline.send({ method: 'POST', path: `${this.#path}/members`, body, repeatable: true, signal: options.signal });
  }

  /**
   * Adds one member and resolves to its membership; throws a {@link ParleyApiError} when it could not be
   * added (ACS `add_participant`). A user who is already a member resolves to the existing membership.
   */
  async addMember(member: MemberSpec, options: OperationOptions = {}): Promise<Member> {
    const result = await this.addMembers([member], options);
    const failure = result.failures[0];
    if (failure) {
      const known = ['bad_request', 'forbidden', 'not_found', 'conflict', 'limit_exceeded'] as const;
      const code = known.find((c) => c === failure.error.code) ?? 'bad_request';
      throw new ParleyApiError({ code, status: 200, message: failure.error.message, target: failure.userId, details: [failure.error] });
    }
    const userId = typeof member === 'string' ? member : member.userId;
    return result.added[0] ?? this.getMember(userId, options);
  }

  /** One member (`me` for the caller). */
  getMember(userId: string, options: OperationOptions = {}): Promise<Member> {
    return this.#pipeline.send({ method: 'GET', path: this.#memberPath(userId), repeatable: true, signal: options.signal });
  }

  /** Sets a member's role (rooms; a room always keeps an owner). */
  updateMember(userId: string, changes: { role: MemberRole }, options: OperationOptions = {}): Promise<Member> {
    return this.#pipeline.send({ method: 'PATCH', path: this.#memberPath(userId), body: changes, repeatable: true, signal: options.signal });
  }

  /** Makes a member an owner (Symphony `promote_user_to_room_owner`). */
  promoteMember(userId: string, options: OperationOptions = {}): Promise<Member> {
    return this.updateMember(userId, { role: 'owner' }, options);
  }

  /** Makes an owner a plain member (Symphony `demote_owner_to_room_participant`). */
  demoteMember(userId: string, options: OperationOptions = {}): Promise<Member> {
    return this.updateMember(userId, { role: 'member' }, options);
  }

  /** Removes a member (owners and admins; for yourself, prefer {@link leave}). */
  async removeMember(userId: string, options: OperationOptions = {}): Promise<void> {
    await this.#pipeline.send({ method: 'DELETE', path: this.#memberPath(userId), repeatable: true, signal: options.signal });
  }

  // ---- messages -------------------------------------------------------------------------------------

  /**
   * Sends a message: text by default, `type: 'html'` for HTML (sanitised by the server), or a full
   * {@link SendMessageRequest}. Safe to retry: every call carries an idempotency key.
   *
   * @example
   * ```ts
   * await conv.sendMessage('<b>Release</b> is out', { type: 'html', senderDisplayName: 'Release bot', metadata: { build: '42' } });
   * ```
   */
  sendMessage(message: string | SendMessageRequest, options: SendMessageOptions = {}): Promise<Message> {
    const { signal, idempotencyKey, ...fields } = options;
    const request = typeof message === 'string' ? { content: message, ...fields } : { ...fields, ...message };
    return this.#send(request as SendMessageRequest, { idempotencyKey, signal });
  }

  /** Shares third-party content, such as a news article (Symphony `share`). */
  sendShare(share: ShareContent, options: SendShareOptions = {}): Promise<Message> {
    const { signal, idempotencyKey, ...fields } = options;
    return this.#send({ type: 'share', share, ...fields }, { idempotencyKey, signal });
  }

  /** One message. */
  getMessage(messageId: string, options: OperationOptions = {}): Promise<Message> {
    return this.#pipeline.send({ method: 'GET', path: this.#messagePath(messageId), repeatable: true, signal: options.signal });
  }

  /** Messages, newest first unless `order: 'asc'`, optionally by seq range or start time. */
  listMessages(options: ListMessagesOptions = {}): PagedAsyncIterable<Message> {
    const startTime = options.startTime instanceof Date ? options.startTime.toISOString() : options.startTime;
    const filters = { order: options.order, before: options.before, after: options.after, startTime };
    return cursorList<Message>(this.#pipeline, { path: `${this.#path}/messages`, filters }, options);
  }

  /** Edits a message (its author only): content and/or metadata; its version goes up. */
  updateMessage(messageId: string, changes: EditMessageRequest, options: OperationOptions = {}): Promise<Message> {
    // Not repeatable: an edit applied twice counts two versions.
    return this.#pipeline.send({ method: 'PATCH', path: this.#messagePath(messageId), body: changes, repeatable: false, signal: options.signal });
  }

  /** Deletes a message (author, owner or admin); a tombstone keeps its seq. */
  async deleteMessage(messageId: string, options: OperationOptions = {}): Promise<void> {
    await this.#pipeline.send({ method: 'DELETE', path: this.#messagePath(messageId), repeatable: true, signal: options.signal });
  }

  /** Finds messages of this conversation, best match first (see {@link ParleyClient.searchMessages}). */
  searchMessages(query: string, options: Omit<SearchMessagesOptions, 'conversationId'> = {}): PagedAsyncIterable<MessageSearchHit> {
    return this.#client.searchMessages(query, { ...options, conversationId: this.id });
  }

  // ---- attachments ----------------------------------------------------------------------------------

  /**
   * Uploads a file to the conversation, streaming it (a `Blob`/`File`, bytes, a `ReadableStream` or any
   * async iterable of bytes, such as a Node file stream). The upload stays pending, visible to you
   * alone, until you send it: `sendMessage('Report attached', { attachments: [attachment.id] })`. The
   * server decides the type from the bytes and applies that category's size limit (`getLimits()`).
   *
   * A stream is sent once and never retried; a `Blob` or bytes are retried after a 429. In browsers,
   * pass a `Blob`/`File` (streamed request bodies need HTTP/2 there).
   *
   * @example
   * ```ts
   * const attachment = await conv.uploadAttachment(createReadStream('report.pdf'), { name: 'report.pdf' });
   * await conv.sendMessage('The report', { attachments: [attachment.id] });
   * ```
   */
  uploadAttachment(data: AttachmentData, options: UploadAttachmentOptions = {}): Promise<Attachment> {
    const name = options.name ?? (typeof File !== 'undefined' && data instanceof File && data.name !== '' ? data.name : undefined);
    const rawBody: RawBody = {
      data: isBytes(data) ? data : toReadableStream(data),
      contentType: data instanceof Blob && data.type !== '' ? data.type : 'application/octet-stream',
    };
    return this.#pipeline.send({
      method: 'POST',
      path: `${this.#path}/attachments`,
      query: { name, voice: options.voice },
      rawBody,
      // A second attempt would make a second pending upload: only a 429 (answered before reading) is retried.
      repeatable: false,
      signal: options.signal,
    });
  }

  /** Describes an attachment: yours while pending; once sent, anyone who may see its message. */
  getAttachment(attachmentId: string, options: OperationOptions = {}): Promise<Attachment> {
    return this.#pipeline.send({ method: 'GET', path: this.#attachmentPath(attachmentId), repeatable: true, signal: options.signal });
  }

  /**
   * Downloads an attachment (or its thumbnail) as a stream, whole or a byte range (`offset`, `count`).
   * A range starting past the end throws `range_not_satisfiable`.
   *
   * @example
   * ```ts
   * const { body, contentType } = await conv.downloadAttachment(attachment.id);
   * const blob = await new Response(body).blob();
   * const head = await conv.downloadAttachment(attachment.id, { offset: 0, count: 4100 }); // status 206
   * ```
   */
  async downloadAttachment(attachmentId: string, options: DownloadAttachmentOptions = {}): Promise<AttachmentDownload> {
    const range = byteRange(options.offset, options.count);
    const { response } = await this.#pipeline.open({
      method: 'GET',
      path: `${this.#attachmentPath(attachmentId)}/${options.thumbnail ? 'thumbnail' : 'content'}`,
      headers: { accept: '*/*', ...(range !== undefined ? { range } : {}) },
      repeatable: true,
      signal: options.signal,
    });
    const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    return {
      status: response.status === 206 ? 206 : 200,
      body: response.body ?? new ReadableStream({ start: (controller) => controller.close() }),
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      contentLength: Number(response.headers.get('content-length') ?? 0),
      etag: response.headers.get('etag') ?? undefined,
      range: contentRange ? { start: Number(contentRange[1]), end: Number(contentRange[2]), size: Number(contentRange[3]) } : undefined,
    };
  }

  /** Deletes a pending upload (its uploader). A sent attachment goes when its message is deleted. */
  async deleteAttachment(attachmentId: string, options: OperationOptions = {}): Promise<void> {
    await this.#pipeline.send({ method: 'DELETE', path: this.#attachmentPath(attachmentId), repeatable: true, signal: options.signal });
  }

  // ---- events, typing, receipts, signals ------------------------------------------------------------

  /** The conversation's events after a seq, oldest first (what the caller may see of them). */
  listEvents(options: ListEventsOptions = {}): PagedAsyncIterable<ParleyEvent> {
    return pagedIterable(async ({ continuationToken, maxPageSize }) => {
      const after = continuationToken === undefined ? (options.after ?? 0) : Number(continuationToken);
      if (!Number.isSafeInteger(after) || after < 0) throw new RangeError('Invalid continuation token');
      const page = await this.#pipeline.send<{ items: ParleyEvent[]; lastSeq: number; hasMore: boolean }>({
        method: 'GET',
        path: `${this.#path}/events`,
        query: { after, limit: maxPageSize },
        repeatable: true,
        signal: options.signal,
      });
      const last = page.items.at(-1)?.seq;
      return { items: page.items, continuationToken: page.hasMore && last !== undefined ? String(last) : undefined };
    }, options);
  }

  /** Tells the other members you are typing; throttled per member (`sent: false` when throttled). */
  sendTyping(options: OperationOptions = {}): Promise<TypingResult> {
    return this.#pipeline.send({ method: 'POST', path: `${this.#path}/typing`, body: {}, repeatable: true, signal: options.signal });
  }

  /** Marks read up to a message (the newest when none is named); positions only move forward. */
  sendReadReceipt(options: SendReadReceiptOptions = {}): Promise<ReadReceipt> {
    const body = options.messageId === undefined ? {} : { messageId: options.messageId };
    return this.#pipeline.send({ method: 'POST', path: `${this.#path}/read`, body, repeatable: true, signal: options.signal });
  }

  /** How far each member has read. */
  listReadReceipts(options: ListReadReceiptsOptions = {}): PagedAsyncIterable<ReadReceipt> {
    return cursorList<ReadReceipt>(this.#pipeline, { path: `${this.#path}/receipts`, filters: { skip: options.skip } }, options);
  }

  /** Sends a small JSON status to one member alone (e.g. a bot), live and on resume. */
  sendSignal(to: string, data: unknown, options: OperationOptions = {}): Promise<SignalResult> {
    return this.#pipeline.send({ method: 'POST', path: `${this.#path}/signals`, body: { to, data }, repeatable: false, signal: options.signal });
  }

  /**
   * A live, ordered, deduplicated list of the conversation's messages, kept in sync with new messages,
   * edits and deletes over realtime (connecting it if needed). Close it when done.
   */
  live(options: LiveConversationOptions = {}): Promise<LiveConversation> {
    return LiveConversation.open(this.#client, this, options);
  }

  // ---- helpers --------------------------------------------------------------------------------------

  #send(request: SendMessageRequest, options: { idempotencyKey: string | undefined; signal: AbortSignal | undefined }): Promise<Message> {
    const key = options.idempotencyKey ?? request.idempotencyKey ?? randomId();
    return this.#pipeline.send({
      method: 'POST',
      path: `${this.#path}/messages`,
      body: { ...request, idempotencyKey: key },
      repeatable: true,
      signal: options.signal,
    });
  }

  /** The conversation's path, or its admin path (`/v1/admin/conversations/{id}`) with `asAdmin`. */
  #pathFor(options: AdminOperationOptions): string {
    return options.asAdmin ? `/v1/admin${this.#path.slice('/v1'.length)}` : this.#path;
  }

  #attachmentPath(attachmentId: string): string {
    return `${this.#path}/attachments/${encodeURIComponent(attachmentId)}`;
  }

  #memberPath(userId: string): string {
    return `${this.#path}/members/${encodeURIComponent(userId)}`;
  }

  #messagePath(messageId: string): string {
    return `${this.#path}/messages/${encodeURIComponent(messageId)}`;
  }
}

function isBytes(data: AttachmentData): data is Blob | ArrayBuffer | ArrayBufferView {
  return data instanceof Blob || data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

/** An async iterable as a stream that pulls one chunk at a time, so backpressure reaches the source. */
function toReadableStream(data: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  if (data instanceof ReadableStream) return data;
  const iterator = data[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

/** The `Range` header for `offset` and `count`, or none for the whole file. */
function byteRange(offset: number | undefined, count: number | undefined): string | undefined {
  if (offset === undefined && count === undefined) return undefined;
  const start = offset ?? 0;
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError('offset must be an integer >= 0');
  if (count === undefined) return `bytes=${start}-`;
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be an integer >= 1');
  return `bytes=${start}-${start + count - 1}`;
}
