import type { ConversationKind, MemberRole } from '@parley/protocol';
import type {
  ApiKeyId,
  ApiKeyRecord,
  ConversationId,
  ConversationRecord,
  EventRecord,
  IdempotencyRecord,
  MemberRecord,
  MemberView,
  MessageId,
  MessageRecord,
  UserId,
  UserRecord,
  Visibility,
} from '../domain/index.js';

/** Offset or keyset paging: `after` is the sort key of the last item of the previous page. */
export interface PageRequest<TKey> {
  limit: number;
  skip?: number;
  after?: TKey;
}

export interface UserFilter {
  kind?: 'human' | 'bot';
  handle?: string;
  disabled?: boolean;
}

export interface UserStore {
  insert(user: UserRecord): Promise<void>;
  get(id: UserId): Promise<UserRecord | undefined>;
  getByHandle(handle: string): Promise<UserRecord | undefined>;
  getMany(ids: readonly UserId[]): Promise<UserRecord[]>;
  update(id: UserId, patch: Partial<Omit<UserRecord, 'id' | 'createdAt'>>): Promise<UserRecord | undefined>;
  delete(id: UserId): Promise<boolean>;
  /** Ordered by id (creation order). */
  listPage(filter: UserFilter, page: PageRequest<UserId>): Promise<UserRecord[]>;
}

export interface ApiKeyStore {
  insert(key: ApiKeyRecord): Promise<void>;
  getByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listForUser(userId: UserId): Promise<ApiKeyRecord[]>;
  delete(userId: UserId, id: ApiKeyId): Promise<boolean>;
  touch(id: ApiKeyId, at: number): Promise<void>;
}

export interface ConversationFilter {
  kind?: ConversationKind;
  active?: boolean;
  updatedSince?: number;
  title?: string;
}

export type ConversationSort = 'created' | 'activity';
/** Keyset for `created`: [createdAt, id]; for `activity`: [lastActivityAt, id]. */
export type ConversationKey = readonly [number, ConversationId];

export interface MemberConversation {
  conversation: ConversationRecord;
  role: MemberRole;
  lastReadSeq: number;
  /** Messages from others after lastReadSeq that the member sees (system messages do not count). */
  unreadCount: number;
}

/** A membership as the realtime gateway needs it at connect time. */
export interface Membership {
  conversationId: ConversationId;
  historyFrom: number | null;
  joinedAt: number;
  /** The conversation's newest event seq when read. */
  lastSeq: number;
}

/** A member as it joins: read positions start empty. */
export type NewMemberRecord = Omit<MemberRecord, 'lastReadSeq' | 'lastReadMessageId' | 'lastReadAt'>;

export type ConversationPatch = Partial<
  Omit<ConversationRecord, 'id' | 'kind' | 'createdBy' | 'createdAt' | 'lastSeq' | 'lastMessageSeq' | 'memberCount'>
>;

export interface ConversationStore {
  insert(conversation: ConversationRecord): Promise<void>;
  /** Deleted conversations are not returned. */
  get(id: ConversationId): Promise<ConversationRecord | undefined>;
  getByDedupeKey(key: string): Promise<ConversationRecord | undefined>;
  update(id: ConversationId, patch: ConversationPatch): Promise<void>;
  /**
   * Takes the conversation's next event seq (and next message seq when `message`), marking activity at `at`.
   * Inside a transaction this also serialises writers of one conversation.
   */
  nextSeq(id: ConversationId, message: boolean, at: number): Promise<{ seq: number; messageSeq: number }>;
  adjustMemberCount(id: ConversationId, delta: number): Promise<void>;
  markDeleted(id: ConversationId, at: number): Promise<void>;
  /** The conversations `userId` is a member of. Sorted `created` ascending or `activity` descending. */
  listForMember(
    userId: UserId,
    filter: ConversationFilter,
    sort: ConversationSort,
    page: PageRequest<ConversationKey>,
  ): Promise<MemberConversation[]>;
}

/** Keyset for members: [joinedAt, userId]. */
export type MemberKey = readonly [number, UserId];

export interface MemberStore {
  get(conversationId: ConversationId, userId: UserId): Promise<MemberRecord | undefined>;
  getView(conversationId: ConversationId, userId: UserId): Promise<MemberView | undefined>;
  insert(member: NewMemberRecord): Promise<void>;
  remove(conversationId: ConversationId, userId: UserId): Promise<boolean>;
  setRole(conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<void>;
  /** Ordered by join time, then user id. */
  listPage(conversationId: ConversationId, page: PageRequest<MemberKey>): Promise<MemberView[]>;
  countOwners(conversationId: ConversationId): Promise<number>;
  listUserIds(conversationId: ConversationId): Promise<UserId[]>;
  listConversationIds(userId: UserId): Promise<ConversationId[]>;
  /** The user's memberships in live conversations, with each conversation's newest seq. */
  listMemberships(userId: UserId): Promise<Membership[]>;
  /** Moves the read position forward to `seq` (never back); true when it moved. */
  markRead(conversationId: ConversationId, userId: UserId, read: { seq: number; messageId: MessageId; at: number }): Promise<boolean>;
  /** Members who have read something, ordered by user id. */
  listReceipts(conversationId: ConversationId, page: PageRequest<UserId>): Promise<MemberRecord[]>;
}

export interface MessageQuery {
  order: 'asc' | 'desc';
  /** Only seq < beforeSeq. */
  beforeSeq?: number;
  /** Only seq > afterSeq. */
  afterSeq?: number;
  /** Only createdAt >= startTime. */
  startTime?: number;
  limit: number;
  viewer: Visibility;
}

export type MessagePatch = Partial<Pick<MessageRecord, 'content' | 'metadata' | 'share' | 'version' | 'editedAt' | 'deletedAt'>>;

export interface MessageStore {
  append(message: MessageRecord): Promise<void>;
  get(conversationId: ConversationId, id: MessageId): Promise<MessageRecord | undefined>;
  update(id: MessageId, patch: MessagePatch): Promise<void>;
  listPage(conversationId: ConversationId, query: MessageQuery): Promise<MessageRecord[]>;
  /** Messages from others after `afterSeq` that `viewer` sees, not deleted, not system. */
  countUnread(conversationId: ConversationId, viewer: Visibility, afterSeq: number): Promise<number>;
}

export interface EventQuery {
  afterSeq: number;
  limit: number;
  /** Only what this member may see; null reads everything (the realtime feed filters per recipient itself). */
  viewer: Visibility | null;
  /** Only events at or after this time (replaying a conversation from when the user joined). */
  sinceTime?: number;
  /** Only events with seq <= this. */
  uptoSeq?: number;
}

export interface EventStore {
  append(event: EventRecord): Promise<void>;
  /** Events with seq > afterSeq, oldest first, filtered as the query says. */
  listAfter(conversationId: ConversationId, query: EventQuery): Promise<EventRecord[]>;
  /** Replaces the stored `data` of every event about a message (edits and deletes scrub earlier snapshots). */
  rewriteMessageData(messageId: MessageId, data: string): Promise<void>;
}

export interface IdempotencyStore {
  get(userId: UserId, scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** Throws StoreConflict when the key is already taken. */
  insert(record: IdempotencyRecord): Promise<void>;
  /** Forgets keys made before `cutoff`; returns how many. */
  deleteOlderThan(cutoff: number): Promise<number>;
}

/** The root of the store. A transaction hands over a `Store` of the same shape. */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly users: UserStore;
  readonly apiKeys: ApiKeyStore;
  readonly conversations: ConversationStore;
  readonly members: MemberStore;
  readonly messages: MessageStore;
  readonly events: EventStore;
  readonly idempotency: IdempotencyStore;
  /** Runs `fn` in one transaction; nested calls join the outer one. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** Applies pending migrations. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
