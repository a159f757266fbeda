import type { ConversationKind, MemberRole } from '@parley/protocol';
import { ParleyError } from '@parley/protocol';
import type { Actor, UserId } from './index.js';

// Every authorisation rule of a conversation, once. Services call these with the facts they loaded
// and enforce the decision; the REST, WebSocket and ACS doors therefore share one set of rules.

/** The facts about a conversation that the rules need. */
export interface ConversationFacts {
  kind: ConversationKind;
  public: boolean;
  readOnly: boolean;
  membersCanInvite: boolean;
  active: boolean;
}

/** The caller's membership, or null when not a member. */
export type MembershipFacts = { role: MemberRole } | null;

export type Decision =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'forbidden' | 'not_found' | 'conflict'; readonly reason: string };

const ALLOW: Decision = Object.freeze({ ok: true });
const deny = (code: 'forbidden' | 'not_found' | 'conflict', reason: string): Decision => ({ ok: false, code, reason });
const HIDDEN = deny('not_found', 'Conversation not found');
const INACTIVE = deny('conflict', 'The conversation is deactivated; reactivate it first');

/** Throws the decision's error when it denies. */
export function enforce(decision: Decision, target?: string): void {
  if (!decision.ok) throw new ParleyError(decision.code, decision.reason, target);
}

/** An admin acting as admin: the admin flag and a credential carrying the `admin` scope. */
export function actsAsAdmin(actor: Pick<Actor, 'admin' | 'scopes'>): boolean {
  return actor.admin && actor.scopes.includes('admin');
}

const isOwner = (m: MembershipFacts): boolean => m?.role === 'owner';

/**
 * May the actor see the conversation's attributes? Members, admins, and anyone for a public room
 * (so it can be joined). Others get not_found, so existence does not leak.
 */
export function canView(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  if (m || actsAsAdmin(actor) || (conv.kind === 'room' && conv.public)) return ALLOW;
  return HIDDEN;
}

/** May the actor read messages, events and members? Members only; admins included only as members. */
export function canRead(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  if (m) return ALLOW;
  const view = canView(actor, conv, m);
  return view.ok ? deny('forbidden', 'Only members can read this conversation') : view;
}

/** May the actor post a message? Members of an active conversation; owners only in a read-only room. */
export function canPost(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  const read = canRead(actor, conv, m);
  if (!read.ok) return read.code === 'forbidden' ? deny('forbidden', 'Only members can post in this conversation') : read;
  if (!conv.active) return INACTIVE;
  if (conv.readOnly && !isOwner(m)) return deny('forbidden', 'The room is read-only: only owners can post');
  return ALLOW;
}

/** May the actor edit this message? Its author only, while the conversation is active and the actor a member. */
export function canEditMessage(
  actor: Actor,
  conv: ConversationFacts,
  m: MembershipFacts,
  message: { senderId: UserId; type: string; deletedAt: number | null },
): Decision {
  const read = canRead(actor, conv, m);
  if (!read.ok) return read;
  if (message.senderId !== actor.id) return deny('forbidden', 'Only the author can edit a message');
  if (message.type === 'system') return deny('forbidden', 'System messages cannot be edited');
  if (message.deletedAt !== null) return deny('conflict', 'The message was deleted');
  if (!conv.active) return INACTIVE;
  // Editing is posting: a read-only room takes changes from owners only.
  if (conv.readOnly && !isOwner(m)) return deny('forbidden', 'The room is read-only: only owners can edit');
  return ALLOW;
}

/** May the actor delete this message? Its author, a room owner, or an admin; not system messages. */
export function canDeleteMessage(
  actor: Actor,
  conv: ConversationFacts,
  m: MembershipFacts,
  message: { senderId: UserId; type: string },
): Decision {
  const admin = actsAsAdmin(actor);
  if (!m && !admin) return canRead(actor, conv, m);
  if (message.type === 'system') return deny('forbidden', 'System messages cannot be deleted');
  if (!conv.active) return INACTIVE;
  if (message.senderId === actor.id || isOwner(m) || admin) return ALLOW;
  return deny('forbidden', 'Only the author, an owner or an admin can delete a message');
}

/**
 * May the actor add members? Not to a direct conversation (fixed pair). In a room: owners, or any member
 * when members-can-invite is on. In a group: any member (members-can-invite, on by default). Admins always.
 */
export function canAddMembers(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  const admin = actsAsAdmin(actor);
  if (!m && !admin) return canRead(actor, conv, m);
  if (conv.kind === 'direct') return deny('conflict', 'A direct conversation always has exactly two members');
  if (!conv.active) return INACTIVE;
  if (admin || isOwner(m) || conv.membersCanInvite) return ALLOW;
  return deny('forbidden', 'Only owners can add members to this conversation');
}

/** May the actor remove another member? Owners and admins, never from a direct conversation. */
export function canRemoveMember(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  const admin = actsAsAdmin(actor);
  if (!m && !admin) return canRead(actor, conv, m);
  if (conv.kind === 'direct') return deny('conflict', 'A direct conversation always has exactly two members');
  if (!conv.active) return INACTIVE;
  if (admin || isOwner(m)) return ALLOW;
  return deny('forbidden', 'Only owners can remove members');
}

/** May the member leave? Any member of a group or room; the last owner of a room with others must promote one first. */
export function canLeave(
  conv: ConversationFacts,
  m: MembershipFacts,
  counts: { owners: number; members: number },
): Decision {
  if (!m) return deny('not_found', 'You are not a member of this conversation');
  if (conv.kind === 'direct') return deny('conflict', 'A direct conversation always has exactly two members');
  if (conv.kind === 'room' && isOwner(m) && counts.owners <= 1 && counts.members > 1) {
    return deny('conflict', 'The last owner cannot leave: promote another member first');
  }
  return ALLOW;
}

/** May the actor promote or demote members? Room owners and admins, in an active room. */
export function canChangeRole(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  const admin = actsAsAdmin(actor);
  if (!m && !admin) return canRead(actor, conv, m);
  if (conv.kind !== 'room') return deny('conflict', 'Only rooms have owners');
  if (!conv.active) return INACTIVE;
  if (admin || isOwner(m)) return ALLOW;
  return deny('forbidden', 'Only owners can change roles');
}

/** Would this removal or demotion leave a room without an owner? */
export function keepsAnOwner(targetRole: MemberRole, owners: number): Decision {
  if (targetRole === 'owner' && owners <= 1) return deny('conflict', 'A room always keeps at least one owner');
  return ALLOW;
}

/** May the actor change attributes? Rooms: owners and admins. Direct and group: any member, and admins. */
export function canUpdate(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  const admin = actsAsAdmin(actor);
  if (!m && !admin) return canRead(actor, conv, m);
  if (!conv.active) return INACTIVE;
  if (conv.kind === 'room' && !isOwner(m) && !admin) return deny('forbidden', 'Only owners can update a room');
  return ALLOW;
}

/** May the actor deactivate or reactivate? Rooms only; owners and admins. Allowed while deactivated. */
export function canSetActive(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  const admin = actsAsAdmin(actor);
  if (!m && !admin) return canRead(actor, conv, m);
  if (conv.kind !== 'room') return deny('conflict', 'Only rooms can be deactivated');
  if (admin || isOwner(m)) return ALLOW;
  return deny('forbidden', 'Only owners can deactivate or reactivate a room');
}

/** May the actor delete the conversation? Owners (either member of a direct one) and admins. */
export function canDeleteConversation(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  const admin = actsAsAdmin(actor);
  if (!m && !admin) return canRead(actor, conv, m);
  if (admin || isOwner(m) || conv.kind === 'direct') return ALLOW;
  return deny('forbidden', 'Only owners or admins can delete this conversation');
}

/** May the actor join by itself? Public, active rooms only; private rooms need an invitation. */
export function canJoin(actor: Actor, conv: ConversationFacts, m: MembershipFacts): Decision {
  if (m) return ALLOW;
  if (conv.kind === 'room' && conv.public) return conv.active ? ALLOW : INACTIVE;
  const view = canView(actor, conv, m);
  return view.ok ? deny('forbidden', 'Only public rooms can be joined without an invitation') : view;
}

/** Does a member with this share-history time see a message sent at `createdAt`, addressed to `visibleTo`? */
export function canSeeMessage(
  viewer: { userId: UserId; historyFrom: number | null },
  message: { senderId: UserId; visibleTo: UserId | null; createdAt: number },
): boolean {
  if (message.visibleTo !== null && message.visibleTo !== viewer.userId && message.senderId !== viewer.userId) {
    return false;
  }
  return viewer.historyFrom === null || message.createdAt >= viewer.historyFrom;
}
