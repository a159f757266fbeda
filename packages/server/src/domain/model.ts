import type { AttachmentCategory, BotCommand, Mention, ConversationKind, DeliveryStatus, GroupVisibility, MemberRole, MessageType, ParleyEventType, RetentionPolicy, Scope, ShareContent, SystemContent, UserKind } from '@parley/protocol';
import type { ApiKeyId, AttachmentId, ConversationId, DeliveryId, EventId, GroupId, MessageId, UserId } from './ids.js';

// Internal records: what the store keeps. Times are epoch milliseconds; the HTTP layer renders ISO strings.

export interface UserRecord {
  id: UserId;
  kind: UserKind;
  handle: string;
  displayName: string;
  description: string;
  admin: boolean;
  disabled: boolean;
  passwordHash: string | null;
  /** What a bot offers; empty for humans. */
  commands: BotCommand[];
  /** Access tokens carry the version they were issued under; bumping it revokes them all at once. */
  tokenVersion: number;
  createdAt: number;
  updatedAt: number;
}

/** A named set of users (Teamwire circle or list). */
export interface GroupRecord {
  id: GroupId;
  name: string;
  description: string;
  visibility: GroupVisibility;
  /** Null once the owner's account is deleted; admins manage the group then. */
  ownerId: UserId | null;
  createdAt: number;
  updatedAt: number;
}

export interface GroupView extends GroupRecord {
  memberCount: number;
}

export interface GroupMemberRecord {
  groupId: GroupId;
  userId: UserId;
  addedAt: number;
}

export interface GroupMemberView extends GroupMemberRecord {
  handle: string;
  displayName: string;
  kind: UserKind;
}

/** A bot's outgoing webhook. The secret signs deliveries, so it is kept, not hashed. */
export interface WebhookRecord {
  userId: UserId;
  url: string;
  secret: string;
  /** Event types delivered; null: all. */
  events: ParleyEventType[] | null;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

/** One event queued for one bot's webhook. */
export interface DeliveryRecord {
  id: DeliveryId;
  userId: UserId;
  conversationId: ConversationId;
  eventId: EventId;
  eventType: ParleyEventType;
  seq: number;
  /** The event as JSON, frozen when queued. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due (pending deliveries). */
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

export interface ApiKeyRecord {
  id: ApiKeyId;
  userId: UserId;
  name: string;
  prefix: string;
  hash: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface ConversationRecord {
  id: ConversationId;
  kind: ConversationKind;
  title: string | null;
  description: string;
  keywords: string[];
  public: boolean;
  discoverable: boolean;
  readOnly: boolean;
  membersCanInvite: boolean;
  historyVisibleToNewMembers: boolean;
  pinnedMessageId: MessageId | null;
  active: boolean;
  metadata: Record<string, string>;
  /** When the conversation deletes itself (ACS retention policy); null: never set. */
  retentionPolicy: RetentionPolicy | null;
  createdBy: UserId;
  createdAt: number;
  updatedAt: number;
  lastActivityAt: number;
  lastSeq: number;
  lastMessageSeq: number;
  memberCount: number;
  /** For direct and untitled group conversations: the sorted member set, so the same set finds the same one. */
  dedupeKey: string | null;
}

export interface MemberRecord {
  conversationId: ConversationId;
  userId: UserId;
  role: MemberRole;
  historyFrom: number | null;
  joinedAt: number;
  /** The member's name in this conversation (ACS participant display name); null: the user's display name. */
  nickname: string | null;
  /** Seq of the last message the member marked read (0: none), with its id and when. */
  lastReadSeq: number;
  lastReadMessageId: MessageId | null;
  lastReadAt: number | null;
}

/** A member joined with the user fields shown beside it. */
export interface MemberView extends MemberRecord {
  handle: string;
  displayName: string;
  kind: UserKind;
}

export interface MessageRecord {
  id: MessageId;
  conversationId: ConversationId;
  seq: number;
  type: MessageType;
  content: string;
  senderId: UserId;
  senderDisplayName: string;
  metadata: Record<string, string>;
  share: ShareContent | null;
  system: SystemContent | null;
  visibleTo: UserId | null;
  /** Snapshots of the files sent with the message (attachments never change once uploaded). */
  attachments: AttachmentRecord[];
  /** Members named with `@handle`, resolved when sent or edited. */
  mentions: Mention[];
  version: number;
  createdAt: number;
  editedAt: number | null;
  deletedAt: number | null;
}

/** The server-made preview of an image. */
export interface ThumbnailRecord {
  mimeType: string;
  width: number;
  height: number;
  size: number;
}

/** An uploaded file: pending until a message carries it, then bound to that message. */
export interface AttachmentRecord {
  id: AttachmentId;
  conversationId: ConversationId;
  uploaderId: UserId;
  messageId: MessageId | null;
  name: string;
  mimeType: string;
  category: AttachmentCategory;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  thumbnail: ThumbnailRecord | null;
  createdAt: number;
}

export interface EventRecord {
  id: EventId;
  conversationId: ConversationId;
  seq: number;
  type: ParleyEventType;
  actorId: UserId | null;
  createdAt: number;
  /** The event's `data`, as JSON text: serialised once, sent as is. */
  data: string;
  /** The message this event is about, if any (so edits and deletes can scrub earlier snapshots). */
  messageId: MessageId | null;
  visibleTo: UserId | null;
  /** The author of the message the event is about (it always sees events about its own message). */
  authorId: UserId | null;
  /** The time history visibility is judged by: the message's send time, else the event's time. */
  historyAt: number;
}

export interface IdempotencyRecord {
  userId: UserId;
  scope: string;
  key: string;
  requestHash: string;
  resultId: string;
  createdAt: number;
}

/** Who is acting: the authenticated user and the scopes of its credential. */
export interface Actor {
  id: UserId;
  kind: UserKind;
  admin: boolean;
  displayName: string;
  scopes: readonly Scope[];
}

/** What a member may see of a conversation's history. */
export interface Visibility {
  userId: UserId;
  historyFrom: number | null;
}
