import type { BotCommand, ConversationKind, Mention, MemberRole, MessageType, ParleyEventType, RetentionPolicy, ShareContent, SystemContent, UserKind } from '@parley/protocol';
import type {
  ApiKeyId,
  ApiKeyRecord,
  AttachmentRecord,
  ConversationId,
  ConversationRecord,
  EventId,
  EventRecord,
  MemberRecord,
  MessageId,
  MessageRecord,
  UserId,
  UserRecord,
} from '../../domain/index.js';
import type { ApiKeysTable, ConversationsTable, EventsTable, MembersTable, MessagesTable, UsersTable } from './schema.js';

// Row <-> record mapping, once per table.

const bool = (n: number): boolean => n !== 0;
const int = (b: boolean): number => (b ? 1 : 0);
const json = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

export const userFromRow = (r: UsersTable): UserRecord => ({
  id: r.id as UserId,
  kind: r.kind as UserKind,
  handle: r.handle,
  displayName: r.display_name,
  description: r.description,
  admin: bool(r.admin),
  disabled: bool(r.disabled),
  passwordHash: r.password_hash,
  commands: JSON.parse(r.commands) as BotCommand[],
  tokenVersion: r.token_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function userToRow(u: Partial<UserRecord>): Partial<UsersTable> {
  const row: Partial<UsersTable> = {};
  if (u.id !== undefined) row.id = u.id;
  if (u.kind !== undefined) row.kind = u.kind;
  if (u.handle !== undefined) row.handle = u.handle;
  if (u.displayName !== undefined) row.display_name = u.displayName;
  if (u.description !== undefined) row.description = u.description;
  if (u.admin !== undefined) row.admin = int(u.admin);
  if (u.disabled !== undefined) row.disabled = int(u.disabled);
  if (u.passwordHash !== undefined) row.password_hash = u.passwordHash;
  if (u.commands !== undefined) row.commands = JSON.stringify(u.commands);
  if (u.tokenVersion !== undefined) row.token_version = u.tokenVersion;
  if (u.createdAt !== undefined) row.created_at = u.createdAt;
  if (u.updatedAt !== undefined) row.updated_at = u.updatedAt;
  return row;
}

export const apiKeyFromRow = (r: ApiKeysTable): ApiKeyRecord => ({
  id: r.id as ApiKeyId,
  userId: r.user_id as UserId,
  name: r.name,
  prefix: r.prefix,
  hash: r.hash,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

export const conversationFromRow = (r: ConversationsTable): ConversationRecord => ({
  id: r.id as ConversationId,
  kind: r.kind as ConversationKind,
  title: r.title,
  description: r.description,
  keywords: JSON.parse(r.keywords) as string[],
  public: bool(r.public),
  discoverable: bool(r.discoverable),
  readOnly: bool(r.read_only),
  membersCanInvite: bool(r.members_can_invite),
  historyVisibleToNewMembers: bool(r.history_visible),
  pinnedMessageId: r.pinned_message_id as MessageId | null,
  active: bool(r.active),
  metadata: JSON.parse(r.metadata) as Record<string, string>,
  createdBy: r.created_by as UserId,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastActivityAt: r.last_activity_at,
  lastSeq: r.last_seq,
  lastMessageSeq: r.last_message_seq,
  memberCount: r.member_count,
  dedupeKey: r.dedupe_key,
  retentionPolicy: json<RetentionPolicy>(r.retention_policy),
});

export function conversationToRow(c: Partial<ConversationRecord>): Partial<ConversationsTable> {
  const row: Partial<ConversationsTable> = {};
  if (c.id !== undefined) row.id = c.id;
  if (c.kind !== undefined) row.kind = c.kind;
  if (c.title !== undefined) row.title = c.title;
  if (c.description !== undefined) row.description = c.description;
  if (c.keywords !== undefined) row.keywords = JSON.stringify(c.keywords);
  if (c.public !== undefined) row.public = int(c.public);
  if (c.discoverable !== undefined) row.discoverable = int(c.discoverable);
  if (c.readOnly !== undefined) row.read_only = int(c.readOnly);
  if (c.membersCanInvite !== undefined) row.members_can_invite = int(c.membersCanInvite);
  if (c.historyVisibleToNewMembers !== undefined) row.history_visible = int(c.historyVisibleToNewMembers);
  if (c.pinnedMessageId !== undefined) row.pinned_message_id = c.pinnedMessageId;
  if (c.active !== undefined) row.active = int(c.active);
  if (c.metadata !== undefined) row.metadata = JSON.stringify(c.metadata);
  if (c.createdBy !== undefined) row.created_by = c.createdBy;
  if (c.createdAt !== undefined) row.created_at = c.createdAt;
  if (c.updatedAt !== undefined) row.updated_at = c.updatedAt;
  if (c.lastActivityAt !== undefined) row.last_activity_at = c.lastActivityAt;
  if (c.lastSeq !== undefined) row.last_seq = c.lastSeq;
  if (c.lastMessageSeq !== undefined) row.last_message_seq = c.lastMessageSeq;
  if (c.memberCount !== undefined) row.member_count = c.memberCount;
  if (c.dedupeKey !== undefined) row.dedupe_key = c.dedupeKey;
  if (c.retentionPolicy !== undefined) {
    row.retention_policy = c.retentionPolicy === null ? null : JSON.stringify(c.retentionPolicy);
    row.retention_days = c.retentionPolicy?.kind === 'threadCreationDate' ? c.retentionPolicy.deleteThreadAfterDays : null;
  }
  return row;
}

export const memberFromRow = (r: MembersTable): MemberRecord => ({
  conversationId: r.conversation_id as ConversationId,
  userId: r.user_id as UserId,
  role: r.role as MemberRole,
  historyFrom: r.history_from,
  joinedAt: r.joined_at,
  nickname: r.nickname,
  lastReadSeq: r.last_read_seq,
  lastReadMessageId: r.last_read_message_id as MessageId | null,
  lastReadAt: r.last_read_at,
});

export const messageFromRow = (r: MessagesTable): MessageRecord => ({
  id: r.id as MessageId,
  conversationId: r.conversation_id as ConversationId,
  seq: r.seq,
  type: r.type as MessageType,
  content: r.content,
  senderId: r.sender_id as UserId,
  senderDisplayName: r.sender_display_name,
  metadata: JSON.parse(r.metadata) as Record<string, string>,
  share: json<ShareContent>(r.share),
  system: json<SystemContent>(r.system),
  visibleTo: r.visible_to as UserId | null,
  attachments: JSON.parse(r.attachments) as AttachmentRecord[],
  mentions: JSON.parse(r.mentions) as Mention[],
  version: r.version,
  createdAt: r.created_at,
  editedAt: r.edited_at,
  deletedAt: r.deleted_at,
});

export const messageToRow = (m: MessageRecord): MessagesTable => ({
  id: m.id,
  conversation_id: m.conversationId,
  seq: m.seq,
  type: m.type,
  content: m.content,
  sender_id: m.senderId,
  sender_display_name: m.senderDisplayName,
  metadata: JSON.stringify(m.metadata),
  share: m.share === null ? null : JSON.stringify(m.share),
  system: m.system === null ? null : JSON.stringify(m.system),
  visible_to: m.visibleTo,
  attachments: JSON.stringify(m.attachments),
  mentions: JSON.stringify(m.mentions),
  version: m.version,
  created_at: m.createdAt,
  edited_at: m.editedAt,
  deleted_at: m.deletedAt,
});

export const eventFromRow = (r: EventsTable): EventRecord => ({
  id: r.id as EventId,
  conversationId: r.conversation_id as ConversationId,
  seq: r.seq,
  type: r.type as ParleyEventType,
  actorId: r.actor_id as UserId | null,
  createdAt: r.created_at,
  data: r.data,
  messageId: r.message_id as MessageId | null,
  visibleTo: r.visible_to as UserId | null,
  authorId: r.author_id as UserId | null,
  historyAt: r.history_at,
});

export const eventToRow = (e: EventRecord): EventsTable => ({
  id: e.id,
  conversation_id: e.conversationId,
  seq: e.seq,
  type: e.type,
  actor_id: e.actorId,
  created_at: e.createdAt,
  data: e.data,
  message_id: e.messageId,
  visible_to: e.visibleTo,
  author_id: e.authorId,
  history_at: e.historyAt,
});
