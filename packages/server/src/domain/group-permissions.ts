import type { GroupVisibility } from '@parley/protocol';
import type { UserId } from './ids.js';
import type { Actor } from './model.js';
import { actsAsAdmin, type Decision } from './permissions.js';

// Every authorisation rule of a group, once (like permissions.ts for conversations).

/** The facts about a group that the rules need. */
export interface GroupFacts {
  visibility: GroupVisibility;
  ownerId: UserId | null;
}

const ALLOW: Decision = Object.freeze({ ok: true });
const HIDDEN: Decision = Object.freeze({ ok: false, code: 'not_found', reason: 'Group not found' });
const deny = (reason: string): Decision => ({ ok: false, code: 'forbidden', reason });

const isOwner = (actor: Actor, group: GroupFacts): boolean => group.ownerId === actor.id;

/** May the actor see the group and its members? Anyone for a public group; owner, members and admins for a private one. */
export function canSeeGroup(actor: Actor, group: GroupFacts, isMember: boolean): Decision {
  if (group.visibility === 'public' || isMember || isOwner(actor, group) || actsAsAdmin(actor)) return ALLOW;
  return HIDDEN;
}

/**
 * May the actor create a group with this visibility, or give an existing one this visibility? Anyone;
 * bots only public ones (they may use no others).
 */
export function canCreateGroup(actor: Actor, visibility: GroupVisibility): Decision {
  if (actor.kind === 'bot' && visibility !== 'public') return deny('Bots may create and use only public groups');
  if (actor.kind === 'system') return deny('This account cannot create groups');
  return ALLOW;
}

/** May the actor rename, describe, re-scope, delete the group or change its members? Its owner and admins. */
export function canManageGroup(actor: Actor, group: GroupFacts, isMember: boolean): Decision {
  const see = canSeeGroup(actor, group, isMember);
  if (!see.ok) return see;
  if (isOwner(actor, group) || actsAsAdmin(actor)) return ALLOW;
  return deny('Only the group\'s owner or an admin can change it');
}

/**
 * May the actor add the group's members to a conversation? Bots: public groups only (refused with a clear
 * reason even when the private group exists). Others: any group they can see.
 */
export function canUseGroup(actor: Actor, group: GroupFacts, isMember: boolean): Decision {
  if (actor.kind === 'bot' && group.visibility !== 'public') return deny('Bots may use only public groups');
  return canSeeGroup(actor, group, isMember);
}

/** May the actor remove this member? The owner and admins anyone; a member itself (leaving). */
export function canRemoveGroupMember(actor: Actor, group: GroupFacts, isMember: boolean, userId: UserId): Decision {
  if (userId === actor.id && isMember) return ALLOW;
  return canManageGroup(actor, group, isMember);
}
