import type { ConversationKind, DeliveryStatus, GroupVisibility, MemberRole, ParleyEventType } from '@parley/protocol';
import type {
  ApiKeyId,
  ApiKeyRecord,
  AuditRecord,
  AttachmentId,
  AttachmentRecord,
  ConversationId,
  ConversationRecord,
  DeliveryId,
  DeliveryRecord,
  GroupId,
  GroupMemberRecord,
  GroupMemberView,
  GroupRecord,
  GroupView,
  EventRecord,
  IdempotencyRecord,
  MemberRecord,
  MemberView,
  MessageId,
  MessageRecord,
  ParsedQuery,
  UserId,
  UserRecord,
  Visibility,
  WebhookRecord,
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
  /** Only conversations whose last activity is at or after this time. */
  activeSince?: number;
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
export type NewMemberRecord = Omit<MemberRecord, 'lastReadSeq' | 'lastReadMessageId' | 'lastReadAt' | 'nickname'> & { nickname?: string | null };

export type ConversationPatch = Partial<
  Omit<ConversationRecord, 'id' | 'kind' | 'createdBy' | 'createdAt' | 'lastSeq' | 'lastMessageSeq' | 'memberCount'>
>;

export interface ConversationStore {
  insert(conversation: ConversationRecord): Promise<void>;
  /** Deleted conversations are not returned. */
  get(id: ConversationId): Promise<ConversationRecord | undefined>;
  getByDedupeKey(key: string): Promise<ConversationRecord | undefined>;
  /**
   * The live conversation with `userId`'s membership in it (undefined when not a member), in one read:
   * every request about a conversation starts with both.
   */
  getWithMember(id: ConversationId, userId: UserId): Promise<{ conversation: ConversationRecord; member: MemberRecord | undefined } | undefined>;
  update(id: ConversationId, patch: ConversationPatch): Promise<void>;
  /**
   * Takes the conversation's next event seq (and next message seq when `message`), marking activity at `at`.
   * Inside a transaction this also serialises writers of one conversation.
   */
  nextSeq(id: ConversationId, message: boolean, at: number): Promise<{ seq: number; messageSeq: number }>;
  adjustMemberCount(id: ConversationId, delta: number): Promise<void>;
  markDeleted(id: ConversationId, at: number): Promise<void>;
  /** Live conversations whose retention policy says they are due for deletion at `now`, oldest first. */
  listRetentionDue(now: number, limit: number): Promise<ConversationId[]>;
  /** Admin listing: every live conversation, filtered, sorted by `sort` then id in `order`. */
  listAll(filter: AdminConversationFilter, sort: AdminConversationSort, order: 'asc' | 'desc', page: PageRequest<ConversationKey>): Promise<ConversationRecord[]>;
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

export type MessagePatch = Partial<
  Pick<MessageRecord, 'content' | 'metadata' | 'share' | 'attachments' | 'mentions' | 'version' | 'editedAt' | 'deletedAt'>
>;

/** A message and its `message.created` event, for {@link MessageStore.appendWithEvent}. */
export interface MessageAppend {
  /** The message without its seq: the store takes the conversation's next message seq for it. */
  message: Omit<MessageRecord, 'seq'>;
  /** The event without its seq (the conversation's next event seq) and data (below). */
  event: Omit<EventRecord, 'seq' | 'data'>;
  /** The event's data in two parts: it is `head + messageSeq + tail`, since it carries the message. */
  data: readonly [head: string, tail: string];
}

export interface MessageStore {
  /** A message whose seq is already taken, with its search entry (no event: sends use appendWithEvent). */
  append(message: MessageRecord): Promise<void>;
  /**
   * Takes the conversation's next event seq and message seq (marking activity at the message's time, as
   * `ConversationStore.nextSeq` does) and appends the message, its search entry and its event with them.
   * The same writes as nextSeq, append and `EventStore.append`, as one step: PostgreSQL makes it one
   * statement (one round trip instead of four on every message sent).
   */
  appendWithEvent(append: MessageAppend): Promise<{ seq: number; messageSeq: number }>;
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

export interface AttachmentStore {
  insert(attachment: AttachmentRecord): Promise<void>;
  /** Attachments due for removal are not returned. */
  get(id: AttachmentId): Promise<AttachmentRecord | undefined>;
  /** Those of `ids` that exist and are not due for removal, in no particular order. */
  getMany(ids: readonly AttachmentId[]): Promise<AttachmentRecord[]>;
  /** Binds pending attachments to a message. Throws StoreConflict when one is no longer pending. */
  bindToMessage(ids: readonly AttachmentId[], messageId: MessageId): Promise<void>;
  /** Marks a message's attachments due for removal (its bytes go with the next purge); returns them. */
  releaseForMessage(messageId: MessageId, at: number): Promise<AttachmentRecord[]>;
  /** Marks a pending attachment due for removal; false when it is not pending (sent or gone). */
  releasePending(id: AttachmentId, at: number): Promise<boolean>;
  /**
   * Attachments whose bytes may go: pending ones uploaded before `pendingBefore`, released ones, those
   * bound to a message that is deleted or gone, and those of deleted conversations. Oldest first.
   */
  listPurgeable(pendingBefore: number, limit: number): Promise<AttachmentRecord[]>;
  /** Forgets an attachment record for good (after its bytes are gone). */
  remove(id: AttachmentId): Promise<void>;
}

export interface GroupFilter {
  visibility?: GroupVisibility;
  /** Exact name. */
  name?: string;
  /** Only groups this user owns or belongs to. */
  ownerOrMember?: UserId;
  /** Only groups this user may see: public ones and private ones it owns or belongs to. */
  visibleTo?: UserId;
}

/** Keyset for group members: [addedAt, userId]. */
export type GroupMemberKey = readonly [number, UserId];

export interface GroupStore {
  insert(group: GroupRecord): Promise<void>;
  get(id: GroupId): Promise<GroupView | undefined>;
  update(id: GroupId, patch: Partial<Pick<GroupRecord, 'name' | 'description' | 'visibility' | 'updatedAt'>>): Promise<void>;
  delete(id: GroupId): Promise<boolean>;
  /** Ordered by id (creation order). */
  listPage(filter: GroupFilter, page: PageRequest<GroupId>): Promise<GroupView[]>;
  /** Which of `groupIds` the user belongs to. */
  membershipsOf(userId: UserId, groupIds: readonly GroupId[]): Promise<Set<GroupId>>;
  /** False when the user already belongs to the group. */
  addMember(member: GroupMemberRecord): Promise<boolean>;
  removeMember(groupId: GroupId, userId: UserId): Promise<boolean>;
  /** Ordered by when they were added, then user id. */
  listMembers(groupId: GroupId, page: PageRequest<GroupMemberKey>): Promise<GroupMemberView[]>;
  /** The members that can join conversations now: not disabled. */
  listActiveMemberIds(groupId: GroupId): Promise<UserId[]>;
}

/** A bot with an active webhook that is a member of a conversation, and how far its queue has reached. */
export interface WebhookSubscriber {
  userId: UserId;
  historyFrom: number | null;
  joinedAt: number;
  /** The last event seq queued for it in this conversation; null when nothing was yet. */
  cursor: number | null;
  /** Event types its webhook takes; null: all. */
  events: ParleyEventType[] | null;
}

export interface WebhookStore {
  put(webhook: WebhookRecord): Promise<void>;
  get(userId: UserId): Promise<WebhookRecord | undefined>;
  delete(userId: UserId): Promise<boolean>;
  listActive(): Promise<WebhookRecord[]>;
  /** Bots with active webhooks among the conversation's members. */
  subscribersOf(conversationId: ConversationId): Promise<WebhookSubscriber[]>;
  /** Queues deliveries (an event already queued for the bot is skipped) and moves the cursor to `cursor`. */
  enqueue(userId: UserId, conversationId: ConversationId, deliveries: readonly DeliveryRecord[], cursor: number): Promise<void>;
  /**
   * Pending deliveries due at `now` (by due time, then queueing time, then seq), each leased until
   * `leaseUntil` so that one process attempts it.
   */
  claimDue(now: number, leaseUntil: number, limit: number): Promise<DeliveryRecord[]>;
  /** Records an attempt's outcome and releases the lease. */
  recordAttempt(
    id: DeliveryId,
    outcome: Pick<DeliveryRecord, 'status' | 'attempts' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'deliveredAt'>,
  ): Promise<void>;
  getDelivery(userId: UserId, id: DeliveryId): Promise<DeliveryRecord | undefined>;
  /** Newest first; `userId` undefined lists every bot's (admins). */
  listDeliveries(filter: { userId?: UserId; status?: DeliveryStatus }, page: PageRequest<DeliveryId>): Promise<DeliveryRecord[]>;
}

export interface IdempotencyStore {
  get(userId: UserId, scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** Throws StoreConflict when the key is already taken. */
  insert(record: IdempotencyRecord): Promise<void>;
  /** Forgets keys made before `cutoff`; returns how many. */
  deleteOlderThan(cutoff: number): Promise<number>;
}

export interface AdminConversationFilter {
  kinds?: readonly ConversationKind[];
  active?: boolean;
  createdBy?: UserId;
  createdSince?: number;
  createdUntil?: number;
  updatedSince?: number;
  updatedUntil?: number;
  minMembers?: number;
  maxMembers?: number;
}

export type AdminConversationSort = 'created' | 'updated' | 'activity' | 'members';

export interface RoomSearchFilter {
  public?: boolean;
  active?: boolean;
  createdBy?: UserId;
  /** Rooms this user owns. */
  owner?: UserId;
  /** Rooms this user is a member of. */
  member?: UserId;
  /** Rooms having every one of these keywords (folded, exact). */
  labels?: readonly string[];
  createdSince?: number;
  createdUntil?: number;
}

/** Keyset of search results, all descending (ascending for `oldest`): [score, time, id]. */
export type SearchKey = readonly [number, number, string];

export interface RoomSearchQuery {
  /** Without text (or with no included terms) every room the filters and visibility allow, score 0. */
  text?: ParsedQuery;
  filter: RoomSearchFilter;
  /** The caller: its role comes with each hit. */
  viewer: UserId;
  /** True: every room (admins). False: public discoverable rooms and the viewer's own. */
  all: boolean;
  /** Only rooms the viewer is a member of. */
  mine?: boolean;
  /** relevance: score, then last activity; activity: last activity; created: creation (all newest first). */
  sort: 'relevance' | 'activity' | 'created';
  page: PageRequest<SearchKey>;
}

export interface RoomHit {
  conversation: ConversationRecord;
  score: number;
  /** The viewer's membership, if any: role, read position and share-history time. */
  role: MemberRole | null;
  lastReadSeq: number;
  historyFrom: number | null;
  /** The time the keyset orders by (last activity or creation). */
  sortTime: number;
}

export interface MessageSearchQuery {
  /** Must include at least one term. */
  text: ParsedQuery;
  /** Only messages this user may read: member of the conversation, history and visibleTo respected. */
  viewer: UserId;
  conversationId?: ConversationId;
  senderId?: UserId;
  since?: number;
  until?: number;
  sort: 'relevance' | 'newest' | 'oldest';
  page: PageRequest<SearchKey>;
}

export interface MessageHit {
  message: MessageRecord;
  conversation: { id: ConversationId; kind: ConversationKind; title: string | null };
  score: number;
}

/** Full-text search over rooms and messages. The indexes follow every write of rooms and messages. */
export interface SearchStore {
  searchRooms(query: RoomSearchQuery): Promise<RoomHit[]>;
  searchMessages(query: MessageSearchQuery): Promise<MessageHit[]>;
}

export interface AuditFilter {
  actorId?: UserId;
  /** An exact action, or a family: `user.*`. */
  action?: string;
  targetType?: string;
  targetId?: string;
  since?: number;
  until?: number;
}

export interface AuditLogStore {
  append(entry: AuditRecord): Promise<void>;
  /** Newest first (by id, which is time-ordered); `after` is the id of the last entry seen. */
  listPage(filter: AuditFilter, page: PageRequest<string>): Promise<AuditRecord[]>;
}

export interface TransactionOptions {
  /** The conversation the transaction writes (and locks); see {@link Store.transaction}. */
  key?: string;
  /**
   * The transaction neither depends on what the other transactions grouped with it write nor they on what
   * it writes, beyond what each store call does atomically (taking a seq): it may run side by side with
   * them (PostgreSQL gathers their statements into one per kind). A message send is; an edit, which reads
   * the message an earlier transaction may have changed, is not. Only with `key`.
   */
  independent?: boolean;
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
  readonly groups: GroupStore;
  readonly webhooks: WebhookStore;
  readonly attachments: AttachmentStore;
  readonly search: SearchStore;
  readonly audit: AuditLogStore;
  /**
   * Runs `fn` in one transaction; nested calls join the outer one. Transactions started together may share
   * one commit (group commit), each still all or nothing on its own. `options.key` names the one
   * conversation the transaction writes: on PostgreSQL only keyed transactions are grouped, with those of
   * one key in order and a batch taking its row locks in key order (so that batches never deadlock).
   */
  transaction<T>(fn: (tx: Store) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Applies pending migrations. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
