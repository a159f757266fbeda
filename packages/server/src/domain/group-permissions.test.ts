import { GROUP_VISIBILITIES, USER_KINDS, type GroupVisibility, type Scope, type UserKind } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { canCreateGroup, canManageGroup, canRemoveGroupMember, canSeeGroup, canUseGroup, type GroupFacts } from './group-permissions.js';
import type { UserId } from './ids.js';
import type { Actor } from './model.js';
import type { Decision } from './permissions.js';

// Every group rule over the whole product of the facts it reads, against an oracle written from the rules.

type Outcome = 'allow' | 'forbidden' | 'not_found';

const SELF = 'usr_self' as UserId;
const OTHER = 'usr_other' as UserId;
const BOOLS = [false, true] as const;
const SCOPES: readonly (readonly Scope[])[] = [['chat'], ['chat', 'admin']];

interface Case {
  actor: Actor;
  group: GroupFacts;
  isMember: boolean;
  label: string;
}

function* cases(): Generator<Case> {
  for (const kind of USER_KINDS as readonly UserKind[])
    for (const admin of BOOLS)
      for (const scopes of SCOPES)
        for (const visibility of GROUP_VISIBILITIES)
          for (const ownerId of [SELF, OTHER, null])
            for (const isMember of BOOLS) {
              const actor: Actor = { id: SELF, kind, admin, displayName: 'Self', scopes };
              yield {
                actor,
                group: { visibility, ownerId },
                isMember,
                label: `${kind} admin=${admin} scopes=${scopes.join('+')} ${visibility} owner=${ownerId ?? 'none'} member=${isMember}`,
              };
            }
}

const outcome = (d: Decision): Outcome => (d.ok ? 'allow' : (d.code as Outcome));
const asAdmin = (a: Actor) => a.admin && a.scopes.includes('admin');
const owns = (c: Case) => c.group.ownerId === c.actor.id;
const sees = (c: Case) => c.group.visibility === 'public' || c.isMember || owns(c) || asAdmin(c.actor);

describe('group permissions', () => {
  it('canSeeGroup: public to all; private to owner, members and admins, hidden (404) from others', () => {
    for (const c of cases()) expect(outcome(canSeeGroup(c.actor, c.group, c.isMember)), c.label).toBe(sees(c) ? 'allow' : 'not_found');
  });

  it('canManageGroup: owner and admins; others who see it are forbidden; others get 404', () => {
    for (const c of cases()) {
      const want: Outcome = !sees(c) ? 'not_found' : owns(c) || asAdmin(c.actor) ? 'allow' : 'forbidden';
      expect(outcome(canManageGroup(c.actor, c.group, c.isMember)), c.label).toBe(want);
    }
  });

  it('canUseGroup: bots only public groups (403 even for private ones they cannot see); others what they see', () => {
    for (const c of cases()) {
      const want: Outcome =
        c.actor.kind === 'bot' && c.group.visibility !== 'public' ? 'forbidden' : sees(c) ? 'allow' : 'not_found';
      const d = canUseGroup(c.actor, c.group, c.isMember);
      expect(outcome(d), c.label).toBe(want);
      if (want === 'forbidden') expect(!d.ok && d.reason).toMatch(/only public groups/);
    }
  });

  it('canRemoveGroupMember: a member may remove itself; otherwise the manage rule', () => {
    for (const c of cases())
      for (const target of [SELF, OTHER]) {
        const manage = outcome(canManageGroup(c.actor, c.group, c.isMember));
        const want: Outcome = target === SELF && c.isMember ? 'allow' : manage;
        expect(outcome(canRemoveGroupMember(c.actor, c.group, c.isMember, target)), `${c.label} target=${target}`).toBe(want);
      }
  });

  it('canCreateGroup: humans any visibility, bots public only, the system account never', () => {
    for (const kind of USER_KINDS as readonly UserKind[])
      for (const visibility of GROUP_VISIBILITIES as readonly GroupVisibility[]) {
        const actor: Actor = { id: SELF, kind, admin: true, displayName: 'Self', scopes: ['chat', 'admin'] };
        const want: Outcome = kind === 'system' || (kind === 'bot' && visibility !== 'public') ? 'forbidden' : 'allow';
        expect(outcome(canCreateGroup(actor, visibility)), `${kind} ${visibility}`).toBe(want);
      }
  });
});
