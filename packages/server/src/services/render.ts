import type { Attachment, Conversation, Member, MemberRole, Message, User } from '@parley/protocol';
import { badRequest, type AttachmentRecord, type ConversationRecord, type EventRecord, type MemberView, type MessageRecord, type UserRecord } from '../domain/index.js';

// Records to wire shapes. The one place that turns epoch milliseconds into ISO strings.

// A send renders its message's time three times (event, frame, answer), and a batch's sends share their
// millisecond: the last conversion is kept.
let lastMs = Number.NaN;
let lastIso = '';

export function iso(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/**
 * Wire time to epoch milliseconds. The `date-time` format admits times Date cannot read (a leap
 * second, `:60`); those are the client's error, not a NaN handed to the database.
 */
export function parseTime(value: string, target: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(`"${value}" is not a time this server can read`, target);
  return ms;
}
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function renderUser(u: UserRecord): User {
  return {
    id: u.id,
    kind: u.kind,
    handle: u.handle,
    displayName: u.displayName,
    description: u.description,
    admin: u.admin,
    disabled: u.disabled,
    commands: u.commands,
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
  };
}

/** The caller's own view of a conversation: its role and read position. */
export interface CallerView {
  role: MemberRole;
  lastReadSeq: number;
  unreadCount: number;
}

export function renderConversation(c: ConversationRecord, caller: CallerView | null): Conversation {
  return {
    ...renderConversationSnapshot(c),
    myRole: caller?.role ?? null,
    unreadCount: caller?.unreadCount ?? 0,
    lastReadSeq: caller?.lastReadSeq ?? 0,
  };
}

export type ConversationSnapshot = Omit<Conversation, 'myRole' | 'unreadCount' | 'lastReadSeq'>;

/** The conversation as events carry it: the same for every member, so without the caller's view. */
export function renderConversationSnapshot(c: ConversationRecord): ConversationSnapshot {
  return {
    id: c.id,
    kind: c.kind,
    title: c.title,
    description: c.description,
    keywords: c.keywords,
    public: c.public,
    discoverable: c.discoverable,
    readOnly: c.readOnly,
    membersCanInvite: c.membersCanInvite,
    historyVisibleToNewMembers: c.historyVisibleToNewMembers,
    pinnedMessageId: c.pinnedMessageId,
    active: c.active,
    metadata: c.metadata,
    retentionPolicy: c.retentionPolicy,
    createdBy: c.createdBy,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    lastActivityAt: iso(c.lastActivityAt),
    lastSeq: c.lastSeq,
    lastMessageSeq: c.lastMessageSeq,
    memberCount: c.memberCount,
  };
}

export function renderMember(m: MemberView): Member {
  return {
    conversationId: m.conversationId,
    userId: m.userId,
    role: m.role,
    historyFrom: isoOrNull(m.historyFrom),
    joinedAt: iso(m.joinedAt),
    handle: m.handle,
    displayName: m.displayName,
    kind: m.kind,
  };
}

export function renderMessage(m: MessageRecord): Message {
  return {
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    type: m.type,
    content: m.content,
    senderId: m.senderId,
    senderDisplayName: m.senderDisplayName,
    metadata: m.metadata,
    share: m.share,
    system: m.system,
    visibleTo: m.visibleTo,
    // The snapshots were taken before the message had an id.
    attachments: m.attachments.map((a) => renderAttachment({ ...a, messageId: m.id })),
    mentions: m.mentions,
    version: m.version,
    createdAt: iso(m.createdAt),
    editedAt: isoOrNull(m.editedAt),
    deletedAt: isoOrNull(m.deletedAt),
  };
}

export function renderAttachment(a: AttachmentRecord): Attachment {
  const base = `/v1/conversations/${a.conversationId}/attachments/${a.id}`;
  return {
    id: a.id,
    conversationId: a.conversationId,
    uploaderId: a.uploaderId,
    messageId: a.messageId,
    name: a.name,
    mimeType: a.mimeType,
    category: a.category,
    size: a.size,
    sha256: a.sha256,
    width: a.width,
    height: a.height,
    thumbnail: a.thumbnail && { url: `${base}/thumbnail`, ...a.thumbnail },
    url: `${base}/content`,
    createdAt: iso(a.createdAt),
  };
}

/**
 * The wire form of a stored event, as JSON text. Built by concatenation around the stored `data` so an
 * event is serialised once, however many readers it has.
 */
export function eventJson(e: EventRecord): string {
  return (
    `{"id":${JSON.stringify(e.id)},"type":${JSON.stringify(e.type)},"conversationId":${JSON.stringify(e.conversationId)},` +
    `"seq":${e.seq},"actorId":${e.actorId === null ? 'null' : JSON.stringify(e.actorId)},` +
    `"createdAt":"${iso(e.createdAt)}","data":${e.data}}`
  );
}
