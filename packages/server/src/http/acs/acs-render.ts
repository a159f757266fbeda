import type { Conversation, Member, Message, Page, ReadReceipt } from '@parley/protocol';
import { identifierOf, threadIdOf, type AcsIdentifier } from './acs-ids.js';
import type { AcsMessage } from './acs-schemas.js';

// Parley wire shapes to ACS wire shapes. Times are already ISO-8601 UTC strings, which ACS reads as is.

export function acsThreadProperties(c: Conversation) {
  return {
    id: threadIdOf(c.id),
    topic: c.title ?? '',
    createdOn: c.createdAt,
    createdByCommunicationIdentifier: identifierOf(c.createdBy),
    metadata: c.metadata,
    ...(c.retentionPolicy ? { retentionPolicy: c.retentionPolicy } : {}),
  };
}

export function acsThreadItem(c: Conversation) {
  return { id: threadIdOf(c.id), topic: c.title ?? '', lastMessageReceivedOn: c.lastActivityAt };
}

export function acsParticipant(m: Member) {
  return {
    communicationIdentifier: identifierOf(m.userId),
    displayName: m.displayName,
    ...(m.historyFrom !== null ? { shareHistoryTime: m.historyFrom } : {}),
  };
}

export function acsReadReceipt(r: ReadReceipt) {
  return { senderCommunicationIdentifier: identifierOf(r.userId), chatMessageId: r.messageId, readOn: r.readAt };
}

type SystemShape = Pick<AcsMessage, 'type' | 'content'>;

/** The ACS system message for a Parley one; undefined for events ACS has no message type for (roles, deactivation). */
function systemShape(m: Message): SystemShape | undefined {
  const s = m.system;
  if (!s) return undefined;
  const initiator: { initiatorCommunicationIdentifier?: AcsIdentifier } = s.actorId ? { initiatorCommunicationIdentifier: identifierOf(s.actorId) } : {};
  const participants = (s.userIds ?? []).map((id) => ({ communicationIdentifier: identifierOf(id) }));
  switch (s.event) {
    case 'conversation.created':
    case 'title.changed':
      return { type: 'topicUpdated', content: { topic: s.title ?? '', ...initiator } };
    case 'member.added':
      return { type: 'participantAdded', content: { participants, ...initiator } };
    case 'member.removed':
      return { type: 'participantRemoved', content: { participants, ...initiator } };
    default:
      return undefined;
  }
}

/**
 * A Parley message in ACS shape: `sequenceId` is the seq, `version` the edit count. A deleted message
 * keeps its id, seq and `deletedOn` and loses its content, as in ACS. Undefined for a system message
 * ACS cannot express.
 */
export function acsMessage(m: Message): AcsMessage | undefined {
  const common = {
    id: m.id,
    sequenceId: String(m.seq),
    version: String(m.version),
    createdOn: m.createdAt,
    ...(m.editedAt !== null ? { editedOn: m.editedAt } : {}),
    ...(m.deletedAt !== null ? { deletedOn: m.deletedAt } : {}),
  };
  if (m.type === 'system') {
    const shape = systemShape(m);
    return shape && { ...common, ...shape };
  }
  return {
    ...common,
    type: m.type === 'html' ? 'html' : 'text',
    ...(m.deletedAt === null ? { content: { message: m.content } } : {}),
    senderDisplayName: m.senderDisplayName,
    senderCommunicationIdentifier: identifierOf(m.senderId),
    ...(Object.keys(m.metadata).length > 0 ? { metadata: m.metadata } : {}),
  };
}

/**
 * The Parley page size and cursor of an ACS list query. Not `skip`: only the lists whose schema
 * declares it may pass it on, as other lists would receive it unvalidated.
 */
export function pageQuery(q: { maxPageSize?: number; cursor?: string }): { limit?: number; cursor?: string } {
  return {
    ...(q.maxPageSize !== undefined ? { limit: q.maxPageSize } : {}),
    ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
  };
}

/** `skip` of a list query whose schema declares it (participants, read receipts). */
export const skipQuery = (q: { skip?: number }): { skip?: number } => (q.skip !== undefined ? { skip: q.skip } : {});

/**
 * An ACS page of a Parley page: the items mapped (those without an ACS form dropped), and a
 * self-contained `nextLink` when more remain. The SDK requests it verbatim, adding nothing, so it
 * carries every query parameter; relative, so no host name is needed.
 */
export function acsPage<T, U>(
  page: Page<T>,
  map: (item: T) => U | undefined,
  path: string,
  query: Readonly<Record<string, string | number | undefined>>,
): { value: U[]; nextLink?: string } {
  const value = page.items.map(map).filter((x): x is U => x !== undefined);
  if (page.nextCursor === null) return { value };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && k !== 'cursor') params.set(k, String(v));
  params.set('cursor', page.nextCursor);
  return { value, nextLink: `${path}?${params.toString()}` };
}
