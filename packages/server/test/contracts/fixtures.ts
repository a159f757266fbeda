import type { ConversationRecord, MessageRecord, UserRecord } from '../../src/domain/index.js';
import { newId } from '../../src/domain/index.js';

// Records for contract tests: fresh ids every time, so tests never depend on each other.

export function aUser(overrides: Partial<UserRecord> = {}): UserRecord {
  const now = Date.now();
  const id = newId('user', now);
  return {
    id,
    kind: 'human',
    handle: `h${id.slice(-12)}`,
    displayName: 'Someone',
    description: '',
    admin: false,
    disabled: false,
    passwordHash: null,
    commands: [],
    tokenVersion: 0,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function aConversation(createdBy: UserRecord['id'], overrides: Partial<ConversationRecord> = {}): ConversationRecord {
  const now = Date.now();
  return {
    id: newId('conversation', now),
    kind: 'room',
    title: 'Room',
    description: '',
    keywords: ['a', 'b'],
    public: false,
    discoverable: false,
    readOnly: false,
    membersCanInvite: false,
    historyVisibleToNewMembers: false,
    pinnedMessageId: null,
    active: true,
    metadata: { k: 'v' },
    retentionPolicy: null,
    createdBy,
    createdAt: now,
    updatedAt: now,
    lastActivityAt: now,
    lastSeq: 0,
    lastMessageSeq: 0,
    memberCount: 0,
    dedupeKey: null,
    ...overrides,
  };
}

export function aMessage(
  conv: ConversationRecord,
  seq: number,
  senderId: UserRecord['id'],
  overrides: Partial<MessageRecord> = {},
): MessageRecord {
  const now = Date.now();
  return {
    id: newId('message', now),
    conversationId: conv.id,
    seq,
    type: 'text',
    content: `message ${seq}`,
    senderId,
    senderDisplayName: 'Someone',
    metadata: {},
    share: null,
    system: null,
    visibleTo: null,
    attachments: [],
    mentions: [],
    version: 1,
    createdAt: now,
    editedAt: null,
    deletedAt: null,
    ...overrides,
  };
}
