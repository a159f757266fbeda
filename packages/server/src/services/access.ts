import type { MemberRole } from '@parley/protocol';
import {
  notFound,
  type Actor,
  type ConversationId,
  type ConversationRecord,
  type MemberRecord,
  type MembershipFacts,
  type Visibility,
} from '../domain/index.js';
import type { Store } from '../store/index.js';
import type { CallerView } from './render.js';

/** A conversation and the caller's membership in it: the facts every permission rule starts from. */
export interface Access {
  conv: ConversationRecord;
  member: MemberRecord | undefined;
  facts: MembershipFacts;
}

export async function loadAccess(store: Store, conversationId: ConversationId, actor: Actor): Promise<Access> {
  const found = await store.conversations.getWithMember(conversationId, actor.id);
  if (!found) throw notFound('Conversation', 'conversationId');
  const { conversation: conv, member } = found;
  return { conv, member, facts: member ? { role: member.role } : null };
}

export function visibilityOf(member: Pick<MemberRecord, 'userId' | 'historyFrom'>): Visibility {
  return { userId: member.userId, historyFrom: member.historyFrom };
}

export function roleOf(access: Access): MemberRole | null {
  return access.member?.role ?? null;
}

/** The caller's role and read position in the conversation, with its unread count (null when not a member). */
export async function callerView(store: Store, access: Access): Promise<CallerView | null> {
  const m = access.member;
  if (!m) return null;
  const unreadCount = await store.messages.countUnread(access.conv.id, visibilityOf(m), m.lastReadSeq);
  return { role: m.role, lastReadSeq: m.lastReadSeq, unreadCount };
}

/** Turns a list of display names into "A", "A and B", "A, B and C". */
export function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}
