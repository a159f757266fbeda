import {
  EVENT_TYPES,
  type AddGroupMembersResult,
  type AdminConversation,
  type ApiKey,
  type AuditEntry,
  type Conversation,
  type CreateGroupRequest,
  type CreateGroupResult,
  type Group,
  type GroupMember,
  type MessageSearchHit,
  type PutWebhookRequest,
  type PutWebhookResult,
  type RoomSearchHit,
  type UpdateGroupRequest,
  type Webhook,
  type WebhookDelivery,
  type CreateApiKeyResult,
  type CreateConversationRequest,
  type CreateConversationResult,
  type CreateUserRequest,
  type CreateUserResult,
  type IssueTokenRequest,
  type Limits,
  type LoginRequest,
  type Me,
  type Member,
  type MemberSpec,
  type ParleyEvent,
  type TokenResult,
  type UpdateConversationRequest,
  type UpdateUserRequest,
  type User,
} from '@parley/protocol';
import { ApiKeyCredential } from './api-key-credential.js';
import { ConversationClient } from './conversation-client.js';
import { cursorList } from './cursor-list.js';
import type {
  AdminOperationOptions,
  ListAllConversationsOptions,
  ListAuditLogOptions,
  ListGroupMembersOptions,
  ListGroupsOptions,
  ListWebhookDeliveriesOptions,
  SearchMessagesOptions,
  SearchRoomsOptions,
  UpdateMeRequest,
} from './client-options.js';
import { EventHub, type ClientEvents, type EventStreamOptions } from './event-hub.js';
import { HttpPipeline, randomId, type OperationOptions } from './http-pipeline.js';
import { pagedIterable, type PagedAsyncIterable, type PagingOptions } from './paging.js';
import { RealtimeSession, type ConnectionState, type RealtimeOptions } from './realtime-session.js';
import type { RetryOptions } from './retry-policy.js';
import { StaticTokenCredential, type TokenCredential } from './token-credential.js';

/** Options of {@link ParleyClient}. Give at most one of `token`, `apiKey` and `credential`. */
export interface ParleyClientOptions {
  /** The server, e.g. `https://chat.example.com`. */
  baseUrl: string;
  /** A fixed access token (or API key) used as it is. */
  token?: string;
  /** An API key, exchanged for short-lived tokens (see {@link ApiKeyCredential}). */
  apiKey?: string;
  /** Any token source, e.g. a {@link RefreshingTokenCredential}. */
  credential?: TokenCredential;
  /** Retry policy of REST calls. */
  retry?: RetryOptions;
  /** Per-attempt timeout of REST calls, in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Realtime: where to resume from and how to reconnect. */
  realtime?: RealtimeOptions;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** Options of {@link ParleyClient.createConversation} and the other creates. */
export interface CreateConversationOptions extends OperationOptions {
  /**
   * Makes a retried create return the first result. The SDK sets a fresh one for every call when none is
   * given, so its own retries never create two conversations.
   */
  idempotencyKey?: string;
}

/** What a room is created with (besides its members and first message). */
export type CreateRoomRequest = Omit<CreateConversationRequest, 'kind' | 'includeCreator' | 'idempotencyKey'>;

/** Options of {@link ParleyClient.createDirectConversation} and {@link ParleyClient.createGroupConversation}. */
export interface CreateChatOptions extends CreateConversationOptions {
  /** A first message to send with the creation. */
  message?: CreateConversationRequest['message'];
  /** A title (group conversations). */
  title?: string;
  /** Metadata of the conversation. */
  metadata?: Record<string, string>;
  /** Admins only: false creates the conversation between the others, without the caller. */
  includeCreator?: boolean;
}

/** Options of {@link ParleyClient.listConversations}. */
export interface ListConversationsOptions extends OperationOptions, PagingOptions {
  /** Only this kind. */
  kind?: 'direct' | 'group' | 'room';
  /** Only active (true) or deactivated (false) conversations. */
  active?: boolean;
  /** Only conversations changed since this time. */
  updatedSince?: Date | string;
  /** Only conversations with exactly this title (Teamwire `get_by_title`). */
  title?: string;
  /** `created` (oldest first, the default) or `activity` (most recently active first). */
  sort?: 'created' | 'activity';
  /** Skip this many before the first page. */
  skip?: number;
}

/** Options of {@link ParleyClient.listUsers}. */
export interface ListUsersOptions extends OperationOptions, PagingOptions {
  /** Only humans or only bots. */
  kind?: 'human' | 'bot';
  /** Only the user with exactly this handle. */
  handle?: string;
  /** Only disabled (true) or enabled (false) users. */
  disabled?: boolean;
  /** Skip this many before the first page. */
  skip?: number;
}

/** Options of {@link ParleyClient.createUserToken} and {@link ParleyClient.createToken}. */
export type CreateTokenOptions = OperationOptions & IssueTokenRequest;

/** Options of {@link ParleyClient.createApiKey}. */
export interface CreateApiKeyOptions extends OperationOptions {
  /** A name to tell keys apart. */
  name?: string;
}

/** Options of {@link ParleyClient.connect}. */
export type ConnectOptions = OperationOptions;

/**
 * The Parley client: REST with retries and paging, and a realtime stream with gap-free resume. Works in
 * browsers and in Node >= 20.
 *
 * @example
 * ```ts
 * await using client = new ParleyClient({ baseUrl: 'http://127.0.0.1:8080', token });
 * const { conversation } = await client.createRoom({ title: 'Design', members: [aliceId] });
 * await client.conversation(conversation.id).sendMessage('Welcome!');
 * client.on('message.created', (e) => console.log(e.data.message.content));
 * ```
 */
export class ParleyClient implements AsyncDisposable {
  readonly #pipeline: HttpPipeline;
  readonly #credential: TokenCredential | undefined;
  readonly #hub = new EventHub();
  readonly #realtimeOptions: RealtimeOptions;
  /** Whether the client made its credential (from `apiKey`), and so disposes it. */
  readonly #ownsCredential: boolean;
  #realtime: RealtimeSession | undefined;

  /** Makes a client; nothing is sent until the first call. */
  constructor(options: ParleyClientOptions) {
    const given = [options.token, options.apiKey, options.credential].filter((x) => x !== undefined).length;
    if (given > 1) throw new TypeError('Give at most one of token, apiKey and credential');
    if (!/^https?:\/\//.test(options.baseUrl)) throw new TypeError('baseUrl must be an http:// or https:// URL');
    this.#credential =
      options.credential ??
      (options.token !== undefined
        ? new StaticTokenCredential(options.token)
        : options.apiKey !== undefined
          ? new ApiKeyCredential({ baseUrl: options.baseUrl, apiKey: options.apiKey, ...(options.retry ? { retry: options.retry } : {}) })
          : undefined);
    this.#ownsCredential = options.credential === undefined;
    this.#pipeline = new HttpPipeline({
      baseUrl: options.baseUrl,
      credential: this.#credential,
      retry: options.retry,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
    });
    this.#realtimeOptions = options.realtime ?? {};
  }

  /** The server's base URL, without a trailing slash. */
  get baseUrl(): string {
    return this.#pipeline.baseUrl;
  }

  /** Closes the realtime connection, aborts requests in flight and stops token refreshes. */
  async close(): Promise<void> {
    this.#realtime?.stop();
    this.#hub.clear();
    this.#pipeline.close();
    // A credential passed in by the caller may be shared with other clients: only dispose our own.
    if (this.#ownsCredential) this.#credential?.dispose?.();
  }

  /** Same as {@link close}, so that `await using client = new ParleyClient(…)` works. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- system ---------------------------------------------------------------------------------------

  /** Liveness and server version (`GET /health`). */
  getHealth(options: OperationOptions = {}): Promise<{ status: 'ok'; version: string }> {
    return this.#get('/health', options, false);
  }

  /** The server's limits: body size, message length, page sizes… (`GET /v1/limits`). */
  getLimits(options: OperationOptions = {}): Promise<Limits> {
    return this.#get('/v1/limits', options, false);
  }

  // ---- identity -------------------------------------------------------------------------------------

  /** Signs in with handle and password (humans) and returns an access token; needs no credential. */
  login(request: LoginRequest, options: OperationOptions = {}): Promise<TokenResult> {
    return this.#pipeline.send({ method: 'POST', path: '/v1/auth/login', body: request, repeatable: true, authenticate: false, signal: options.signal });
  }

  /**
   * Exchanges the API key this client was given as `token` for a short-lived access token
   * (`POST /v1/auth/token`). A client made with `apiKey` does this by itself.
   */
  createToken(options: CreateTokenOptions = {}): Promise<TokenResult> {
    const { signal, ...body } = options;
    return this.#pipeline.send({ method: 'POST', path: '/v1/auth/token', body, repeatable: true, signal });
  }

  /** The caller: its account and its credential's scopes. */
  getMe(options: OperationOptions = {}): Promise<Me> {
    return this.#get('/v1/me', options);
  }

  /** Admin: creates a human or a bot (a bot's first API key is returned once). */
  createUser(request: CreateUserRequest, options: OperationOptions = {}): Promise<CreateUserResult> {
    return this.#pipeline.send({ method: 'POST', path: '/v1/users', body: request, repeatable: false, signal: options.signal });
  }

  /** A user (`me` for the caller). */
  getUser(userId: string, options: OperationOptions = {}): Promise<User> {
    return this.#get(userPath(userId), options);
  }

  /** The user directory, filtered by kind, handle or disabled flag. */
  listUsers(options: ListUsersOptions = {}): PagedAsyncIterable<User> {
    const { kind, handle, disabled, skip } = options;
    return cursorList<User>(this.#pipeline, { path: '/v1/users', filters: { kind, handle, disabled, skip } }, options);
  }

  /**
   * Updates a user; only the fields given change. Admins change anything (display name, description,
   * admin and disabled flags, password, a bot's commands). Anyone may update its own account (`me`, or
   * its own id) with what {@link updateMe} allows; anything else is `forbidden`.
   */
  updateUser(userId: string, changes: UpdateUserRequest, options: OperationOptions = {}): Promise<User> {
    return this.#pipeline.send({ method: 'PATCH', path: userPath(userId), body: changes, repeatable: true, signal: options.signal });
  }

  /**
   * Changes the caller's own display name and description, and for a bot its commands (shown in
   * clients' command pickers); needs no admin right.
   *
   * @example
   * ```ts
   * await bot.updateMe({ commands: [{ command: '/weather', description: 'The forecast', usage: '<city>' }] });
   * ```
   */
  updateMe(changes: UpdateMeRequest, options: OperationOptions = {}): Promise<User> {
    return this.updateUser('me', changes, options);
  }

  /** Admin: deletes a user (removed from every conversation; its messages stay). */
  async deleteUser(userId: string, options: OperationOptions = {}): Promise<void> {
    await this.#pipeline.send({ method: 'DELETE', path: userPath(userId), repeatable: true, signal: options.signal });
  }

  /** Admin: issues an access token for a user, with scopes and expiry. */
  createUserToken(userId: string, options: CreateTokenOptions = {}): Promise<TokenResult> {
    const { signal, ...body } = options;
    return this.#pipeline.send({ method: 'POST', path: `${userPath(userId)}/tokens`, body, repeatable: true, signal });
  }

  /** Admin: revokes every access token issued to the user so far. */
  async deleteUserTokens(userId: string, options: OperationOptions = {}): Promise<void> {
    await this.#pipeline.send({ method: 'DELETE', path: `${userPath(userId)}/tokens`, repeatable: true, signal: options.signal });
  }

  /** A user's API keys (own keys, or any as admin); the secrets are never shown again. */
  listApiKeys(userId: string, options: OperationOptions = {}): PagedAsyncIterable<ApiKey> {
    return pagedIterable(async () => {
      const list = await this.#get<{ items: ApiKey[] }>(`${userPath(userId)}/api-keys`, options);
      return { items: list.items, continuationToken: undefined };
    });
  }

  /** Makes an API key for a user; the secret (`key`) is shown only in this answer. */
  createApiKey(userId: string, options: CreateApiKeyOptions = {}): Promise<CreateApiKeyResult> {
    const { signal, ...body } = options;
    return this.#pipeline.send({ method: 'POST', path: `${userPath(userId)}/api-keys`, body, repeatable: false, signal });
  }

  /**
   * Rotates an API key: a new key with the same name, whose secret (`key`) is shown only in this answer;
   * the old key stops working at once. Not retried: a lost answer would lose the only copy of the new key.
   */
  rotateApiKey(userId: string, keyId: string, options: OperationOptions = {}): Promise<CreateApiKeyResult> {
    const path = `${userPath(userId)}/api-keys/${encodeURIComponent(keyId)}/rotate`;
    return this.#pipeline.send({ method: 'POST', path, repeatable: false, signal: options.signal });
  }

  /** Revokes an API key. */
  async deleteApiKey(userId: string, keyId: string, options: OperationOptions = {}): Promise<void> {
    const path = `${userPath(userId)}/api-keys/${encodeURIComponent(keyId)}`;
    await this.#pipeline.send({ method: 'DELETE', path, repeatable: true, signal: options.signal });
  }

  // ---- conversations --------------------------------------------------------------------------------

  /**
   * Creates a direct, group or room conversation, with members and an optional first message. Opening a
   * direct conversation again (or a group with the same members) returns the existing one with
   * `created: false`. Safe to retry: every call carries an idempotency key.
   */
  createConversation(request: CreateConversationRequest, options: CreateConversationOptions = {}): Promise<CreateConversationResult> {
    const idempotencyKey = options.idempotencyKey ?? request.idempotencyKey ?? randomId();
    return this.#pipeline.send({ method: 'POST', path: '/v1/conversations', body: { ...request, idempotencyKey }, repeatable: true, signal: options.signal });
  }

  /** Creates a room (Symphony `create_room`, ACS `create_chat_thread`), with members and a first message. */
  createRoom(request: CreateRoomRequest, options: CreateConversationOptions = {}): Promise<CreateConversationResult> {
    return this.createConversation({ ...request, kind: 'room' }, options);
  }

  /** Opens the direct conversation with one user, creating it the first time (Symphony `create_im`). */
  createDirectConversation(userId: string, options: CreateChatOptions = {}): Promise<CreateConversationResult> {
    return this.createConversation({ kind: 'direct', members: [userId], ...chatFields(options) }, options);
  }

  /** Opens the group conversation with these users, creating it the first time (Symphony `create_im_or_mim`). */
  createGroupConversation(members: readonly MemberSpec[], options: CreateChatOptions = {}): Promise<CreateConversationResult> {
    return this.createConversation({ kind: 'group', members: [...members], ...chatFields(options) }, options);
  }

  /** A conversation (members, admins, or anyone for a public room). */
  getConversation(conversationId: string, options: OperationOptions = {}): Promise<Conversation> {
    return this.conversation(conversationId).get(options);
  }

  /** My conversations, filtered by kind, active flag, change time or exact title, with unread counts. */
  listConversations(options: ListConversationsOptions = {}): PagedAsyncIterable<Conversation> {
    const { kind, active, title, sort, skip } = options;
    const filters = { kind, active, title, sort, skip, updatedSince: isoTime(options.updatedSince) };
    return cursorList<Conversation>(this.#pipeline, { path: '/v1/conversations', filters }, options);
  }

  /** Changes a conversation's attributes; only the fields given change. */
  updateConversation(conversationId: string, changes: UpdateConversationRequest, options: OperationOptions = {}): Promise<Conversation> {
    return this.conversation(conversationId).update(changes, options);
  }

  /**
   * Deactivates a room (Symphony `set_room_active(false)`): owners, or an admin with `asAdmin: true`
   * (Symphony `set_room_active_admin`).
   */
  deactivateConversation(conversationId: string, options: AdminOperationOptions = {}): Promise<Conversation> {
    return this.conversation(conversationId).deactivate(options);
  }

  /** Reactivates a room (Symphony `set_room_active(true)`): owners, or an admin with `asAdmin: true`. */
  reactivateConversation(conversationId: string, options: AdminOperationOptions = {}): Promise<Conversation> {
    return this.conversation(conversationId).reactivate(options);
  }

  /** Deletes a conversation (owner or admin). */
  deleteConversation(conversationId: string, options: OperationOptions = {}): Promise<void> {
    return this.conversation(conversationId).delete(options);
  }

  /** Joins a public room. */
  joinConversation(conversationId: string, options: OperationOptions = {}): Promise<Member> {
    return this.conversation(conversationId).join(options);
  }

  /** Leaves a group or room. */
  leaveConversation(conversationId: string, options: OperationOptions = {}): Promise<void> {
    return this.conversation(conversationId).leave(options);
  }

  /** The operations of one conversation: members, messages, events, typing, receipts, live view. */
  conversation(conversationId: string): ConversationClient {
    return new ConversationClient(this, this.#pipeline, conversationId);
  }

  // ---- groups ---------------------------------------------------------------------------------------

  /**
   * Creates a group: a named set of users to add to conversations at once (`groups: [id]` when creating
   * a conversation or adding members). Private (a personal list) unless `visibility: 'public'` (a
   * circle everyone may use); bots create public groups only. Initial members that could not be added
   * are reported in `failures`.
   */
  createGroup(request: CreateGroupRequest, options: OperationOptions = {}): Promise<CreateGroupResult> {
    return this.#pipeline.send({ method: 'POST', path: '/v1/groups', body: request, repeatable: false, signal: options.signal });
  }

  /** The groups the caller may see (all of them for an admin), oldest first. */
  listGroups(options: ListGroupsOptions = {}): PagedAsyncIterable<Group> {
    const { visibility, mine, name, skip } = options;
    return cursorList<Group>(this.#pipeline, { path: '/v1/groups', filters: { visibility, mine, name, skip } }, options);
  }

  /** A group (Teamwire `groups.get_group`). */
  getGroup(groupId: string, options: OperationOptions = {}): Promise<Group> {
    return this.#get(groupPath(groupId), options);
  }

  /** Renames, describes or changes the visibility of a group (its owner or an admin). */
  updateGroup(groupId: string, changes: UpdateGroupRequest, options: OperationOptions = {}): Promise<Group> {
    return this.#pipeline.send({ method: 'PATCH', path: groupPath(groupId), body: changes, repeatable: true, signal: options.signal });
  }

  /** Deletes a group (its owner or an admin); conversations keep the members it added. */
  async deleteGroup(groupId: string, options: OperationOptions = {}): Promise<void> {
    await this.#pipeline.send({ method: 'DELETE', path: groupPath(groupId), repeatable: true, signal: options.signal });
  }

  /** A group's members, oldest first. */
  listGroupMembers(groupId: string, options: ListGroupMembersOptions = {}): PagedAsyncIterable<GroupMember> {
    return cursorList<GroupMember>(this.#pipeline, { path: `${groupPath(groupId)}/members`, filters: { skip: options.skip } }, options);
  }

  /**
   * Adds users to a group (its owner or an admin); members already in it stay as they are. Users that
   * could not be added are reported in `failures`, not thrown.
   */
  addGroupMembers(groupId: string, userIds: readonly string[], options: OperationOptions = {}): Promise<AddGroupMembersResult> {
    const body = { members: [...userIds] };
    return this.#pipeline.send({ method: 'POST', path: `${groupPath(groupId)}/members`, body, repeatable: true, signal: options.signal });
  }

  /** Removes a user from a group (its owner or an admin); `me` leaves it. */
  async removeGroupMember(groupId: string, userId: string, options: OperationOptions = {}): Promise<void> {
    const path = `${groupPath(groupId)}/members/${encodeURIComponent(userId)}`;
    await this.#pipeline.send({ method: 'DELETE', path, repeatable: true, signal: options.signal });
  }

  // ---- bot webhooks ---------------------------------------------------------------------------------

  /**
   * Creates or replaces a bot's webhook (`me` for the calling bot; any bot for an admin): the server
   * then POSTs each event of the bot's conversations to `url`, signed, with retries. The signing
   * secret is returned when the webhook is created or with `rotateSecret: true`, and never again.
   *
   * @example
   * ```ts
   * const { secret } = await bot.setWebhook('me', { url: 'https://bot.example.com/parley', events: ['message.created'] });
   * ```
   */
  setWebhook(userId: string, request: PutWebhookRequest, options: OperationOptions = {}): Promise<PutWebhookResult> {
    // Not repeatable: replaying a creation or a rotation would replace the secret the first answer showed.
    return this.#pipeline.send({ method: 'PUT', path: `${userPath(userId)}/webhook`, body: request, repeatable: false, signal: options.signal });
  }

  /** A bot's webhook, without its secret. */
  getWebhook(userId: string, options: OperationOptions = {}): Promise<Webhook> {
    return this.#get(`${userPath(userId)}/webhook`, options);
  }

  /** Removes a bot's webhook; events are no longer delivered to it. */
  async deleteWebhook(userId: string, options: OperationOptions = {}): Promise<void> {
    await this.#pipeline.send({ method: 'DELETE', path: `${userPath(userId)}/webhook`, repeatable: true, signal: options.signal });
  }

  /** A bot's webhook delivery log, newest first. */
  listWebhookDeliveries(userId: string, options: ListWebhookDeliveriesOptions = {}): PagedAsyncIterable<WebhookDelivery> {
    const path = `${userPath(userId)}/webhook/deliveries`;
    return cursorList<WebhookDelivery>(this.#pipeline, { path, filters: { status: options.status } }, options);
  }

  /** Queues a dead-lettered delivery again, with a fresh set of attempts. */
  retryWebhookDelivery(userId: string, deliveryId: string, options: OperationOptions = {}): Promise<WebhookDelivery> {
    const path = `${userPath(userId)}/webhook/deliveries/${encodeURIComponent(deliveryId)}/retry`;
    return this.#pipeline.send({ method: 'POST', path, repeatable: false, signal: options.signal });
  }

  /** Admin: every bot's webhook deliveries, newest first; `status: 'dead'` is the dead-letter queue. */
  listAllWebhookDeliveries(options: ListWebhookDeliveriesOptions = {}): PagedAsyncIterable<WebhookDelivery> {
    return cursorList<WebhookDelivery>(this.#pipeline, { path: '/v1/webhook-deliveries', filters: { status: options.status } }, options);
  }

  // ---- search ---------------------------------------------------------------------------------------

  /**
   * Finds rooms by text and filters, best match first (Symphony `search_rooms`): public discoverable
   * rooms and the caller's own; every room for an admin credential. Query syntax: docs/search.md.
   *
   * @example
   * ```ts
   * for await (const { room, score } of client.searchRooms({ query: 'design -archive', active: true, maxItems: 20 })) console.log(room.title, score);
   * ```
   */
  searchRooms(options: SearchRoomsOptions = {}): PagedAsyncIterable<RoomSearchHit> {
    const filters = {
      q: options.query,
      public: options.public,
      active: options.active,
      creator: options.creator,
      owner: options.owner,
      member: options.member,
      labels: options.labels,
      createdSince: isoTime(options.createdSince),
      createdUntil: isoTime(options.createdUntil),
      sort: options.sort,
      skip: options.skip,
    };
    return cursorList<RoomSearchHit>(this.#pipeline, { path: '/v1/search/rooms', filters }, options);
  }

  /**
   * Finds the messages the caller may read, best match first, each with a highlighted snippet and its
   * conversation. Query syntax: docs/search.md.
   */
  searchMessages(query: string, options: SearchMessagesOptions = {}): PagedAsyncIterable<MessageSearchHit> {
    const filters = {
      conversationId: options.conversationId,
      senderId: options.senderId,
      since: isoTime(options.since),
      until: isoTime(options.until),
      sort: options.sort,
      skip: options.skip,
    };
    return cursorList<MessageSearchHit>(this.#pipeline, { path: '/v1/search/messages', filters, required: { q: query } }, options);
  }

  // ---- admin ----------------------------------------------------------------------------------------

  /**
   * Admin: every conversation of every kind, the caller's or not (Symphony `list_all_streams_admin`),
   * filtered and sorted. For members, use `conversation(id).listMembers({ asAdmin: true })`.
   */
  listAllConversations(options: ListAllConversationsOptions = {}): PagedAsyncIterable<AdminConversation> {
    const filters = {
      kind: typeof options.kind === 'string' ? [options.kind] : options.kind,
      active: options.active,
      creator: options.creator,
      createdSince: isoTime(options.createdSince),
      createdUntil: isoTime(options.createdUntil),
      updatedSince: isoTime(options.updatedSince),
      updatedUntil: isoTime(options.updatedUntil),
      minMembers: options.minMembers,
      maxMembers: options.maxMembers,
      sort: options.sort,
      order: options.order,
      skip: options.skip,
    };
    return cursorList<AdminConversation>(this.#pipeline, { path: '/v1/admin/conversations', filters }, options);
  }

  /** Admin: the audit log of admin actions, newest first. */
  listAuditLog(options: ListAuditLogOptions = {}): PagedAsyncIterable<AuditEntry> {
    const { actorId, action, targetType, targetId, skip } = options;
    const filters = { actorId, action, targetType, targetId, since: isoTime(options.since), until: isoTime(options.until), skip };
    return cursorList<AuditEntry>(this.#pipeline, { path: '/v1/admin/audit-log', filters }, options);
  }

  // ---- realtime -------------------------------------------------------------------------------------

  /**
   * Opens the realtime stream (if not open yet) and resolves once it has caught up. Listening with
   * {@link on} or {@link events} connects too; call this to wait for the connection or see it fail.
   */
  async connect(options: ConnectOptions = {}): Promise<void> {
    const started = this.#session().start();
    if (!options.signal) return started;
    const { signal } = options;
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      started.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** The realtime connection's state. */
  get connectionState(): ConnectionState {
    return this.#realtime?.state ?? 'idle';
  }

  /**
   * The last event seq seen per conversation. Save it and pass it back as `realtime.positions` to
   * resume a later session exactly where this one stopped.
   */
  get realtimePositions(): Record<string, number> {
    return this.#realtime?.positions ?? { ...this.#realtimeOptions.positions };
  }

  /**
   * Calls `handler` for each realtime event of a type, for every conversation the user is in; connects
   * if needed. Returns the function that unsubscribes. A handler that throws does not stop the others; its
   * error is rethrown asynchronously, as an uncaught error.
   *
   * @example
   * ```ts
   * const stop = client.on('message.created', (event) => console.log(event.conversationId, event.data.message.content));
   * client.on('connection', (change) => console.log('realtime', change.state));
   * ```
   */
  on<K extends keyof ClientEvents>(type: K, handler: (payload: ClientEvents[K]) => void): () => void {
    const unsubscribe = this.#hub.on(type, handler);
    if (type !== 'connection') this.#startQuietly();
    return unsubscribe;
  }

  /**
   * Every realtime event, as an async iterator (connects if needed). Events wait in a buffer until read;
   * `break` out of the loop (or abort `signal`) to unsubscribe.
   *
   * @example
   * ```ts
   * for await (const event of client.events({ conversationId })) {
   *   if (event.type === 'message.created') console.log(event.data.message.content);
   * }
   * ```
   */
  events(options: EventStreamOptions = {}): AsyncIterableIterator<ParleyEvent> {
    const iterator = this.#hub.events(options, EVENT_TYPES);
    if (this.#pipeline.closed) void iterator.return?.();
    else this.#startQuietly();
    return iterator;
  }

  /** Drops the realtime socket as a network failure would; the client reconnects and resumes (for tests and demos). */
  dropConnection(): void {
    this.#realtime?.dropConnection();
  }

  // ---- helpers --------------------------------------------------------------------------------------

  #session(): RealtimeSession {
    this.#realtime ??= new RealtimeSession(
      this.#pipeline,
      {
        event: (event) => this.#hub.emit(event.type, event as never),
        typing: (notification) => this.#hub.emit('typing', notification),
        state: (change) => this.#hub.emit('connection', change),
      },
      this.#realtimeOptions,
    );
    return this.#realtime;
  }

  /** Starts realtime for a listener; failures are reported as `connection` state changes. */
  #startQuietly(): void {
    if (this.#pipeline.closed) return;
    this.#session()
      .start()
      .catch(() => undefined);
  }

  #get<T>(path: string, options: OperationOptions, authenticate = true): Promise<T> {
    return this.#pipeline.send({ method: 'GET', path, repeatable: true, authenticate, signal: options.signal });
  }
}

function userPath(userId: string): string {
  return `/v1/users/${encodeURIComponent(userId)}`;
}

function groupPath(groupId: string): string {
  return `/v1/groups/${encodeURIComponent(groupId)}`;
}

function isoTime(time: Date | string | undefined): string | undefined {
  return time instanceof Date ? time.toISOString() : time;
}

function chatFields(options: CreateChatOptions): Partial<CreateConversationRequest> {
  return {
    ...(options.message !== undefined ? { message: options.message } : {}),
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
    ...(options.includeCreator !== undefined ? { includeCreator: options.includeCreator } : {}),
  };
}
