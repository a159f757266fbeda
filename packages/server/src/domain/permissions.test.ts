import { CONVERSATION_KINDS, ParleyError, type ConversationKind, type MemberRole, type Scope } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import type { UserId } from './ids.js';
import type { Actor } from './model.js';
import {
  actsAsAdmin,
  canAddMembers,
  canChangeRole,
  canDeleteConversation,
  canDeleteMessage,
  canEditMessage,
  canJoin,
  canLeave,
  canPost,
  canRead,
  canRemoveMember,
  canSeeMessage,
  canSetActive,
  canUpdate,
  canView,
  enforce,
  keepsAnOwner,
  type ConversationFacts,
  type Decision,
  type MembershipFacts,
} from './permissions.js';

// Every rule is checked against the whole cartesian product of the facts it reads, and each decision is
// compared with a small spec function written here from the rules (never by calling the implementation).
// Where the rules say nothing about which denial wins (e.g. a non-owner posting in a deactivated read-only
// room), the oracle states the precedence it expects explicitly.

type Outcome = 'allow' | 'forbidden' | 'not_found' | 'conflict';

const SELF = 'usr_self' as UserId;
const OTHER = 'usr_other' as UserId;
const BOOLS = [false, true] as const;
const MEMBERSHIPS: readonly { name: string; facts: MembershipFacts }[] = [
  { name: 'non-member', facts: null },
  { name: 'member', facts: { role: 'member' } },
  { name: 'owner', facts: { role: 'owner' } },
];
const SCOPE_SETS: readonly (readonly Scope[])[] = [['chat'], ['chat', 'admin']];

interface Case {
  label: string;
  actor: Actor;
  conv: ConversationFacts;
  m: MembershipFacts;
  /** Plain restatements of the facts, for the oracles. */
  facts: {
    kind: ConversationKind;
    isPublic: boolean;
    readOnly: boolean;
    membersCanInvite: boolean;
    active: boolean;
    member: boolean;
    owner: boolean;
    adminFlag: boolean;
    adminScope: boolean;
  };
}

function* conversationCases(): Generator<Case> {
  for (const kind of CONVERSATION_KINDS)
    for (const isPublic of BOOLS)
      for (const readOnly of BOOLS)
        for (const membersCanInvite of BOOLS)
          for (const active of BOOLS)
            for (const membership of MEMBERSHIPS)
              for (const adminFlag of BOOLS)
                for (const scopes of SCOPE_SETS) {
                  const adminScope = scopes.includes('admin');
                  const label = [
                    kind,
                    isPublic ? 'public' : 'private',
                    readOnly ? 'read-only' : 'writable',
                    membersCanInvite ? 'members-invite' : 'owners-invite',
                    active ? 'active' : 'inactive',
                    membership.name,
                    adminFlag ? 'admin' : 'user',
                    `[${scopes.join(',')}]`,
                  ].join(' ');
                  yield {
                    label,
                    actor: { id: SELF, kind: 'human', admin: adminFlag, displayName: 'Self', scopes },
                    conv: { kind, public: isPublic, readOnly, membersCanInvite, active },
                    m: membership.facts,
                    facts: {
                      kind,
                      isPublic,
                      readOnly,
                      membersCanInvite,
                      active,
                      member: membership.facts !== null,
                      owner: membership.facts?.role === 'owner',
                      adminFlag,
                      adminScope,
                    },
                  };
                }
}

const CASES = [...conversationCases()];

const outcomeOf = (d: Decision): Outcome => (d.ok ? 'allow' : d.code);

// ---- The spec, one small function per rule -------------------------------------------------------------

type Facts = Case['facts'];

/** An admin acting as admin needs both the admin flag and a credential with the admin scope. */
const specAdmin = (f: Facts): boolean => f.adminFlag && f.adminScope;
const specPublicRoom = (f: Facts): boolean => f.kind === 'room' && f.isPublic;

/** Members, admins acting as admin, and anyone for a public room may view; others must not learn it exists. */
function specView(f: Facts): Outcome {
  return f.member || specAdmin(f) || specPublicRoom(f) ? 'allow' : 'not_found';
}

/** Only members read. A non-member who may view is told forbidden; one who may not view, not_found. */
function specRead(f: Facts): Outcome {
  if (f.member) return 'allow';
  return specView(f) === 'allow' ? 'forbidden' : 'not_found';
}

/**
 * The gate of management rules: members, or admins acting as admin. Anyone else gets what a read would
 * answer (forbidden when the conversation is visible to them, not_found when not). Returns null when passed.
 */
function specGate(f: Facts): Outcome | null {
  if (f.member || specAdmin(f)) return null;
  return specRead(f);
}

/** Members post; deactivated conversations refuse (conflict); read-only ones take owners only. */
function specPost(f: Facts): Outcome {
  if (!f.member) return specRead(f);
  if (!f.active) return 'conflict';
  // readOnly is a room-only attribute (the service refuses it on other kinds), so the flag alone decides.
  if (f.readOnly && !f.owner) return 'forbidden';
  return 'allow';
}

/** Direct conversations never change members (conflict); rooms: owners always, members when membersCanInvite. */
function specAdd(f: Facts): Outcome {
  const gate = specGate(f);
  if (gate) return gate;
  if (f.kind === 'direct') return 'conflict';
  if (!f.active) return 'conflict';
  if (specAdmin(f) || f.owner || f.membersCanInvite) return 'allow';
  return 'forbidden';
}

/** Only owners and admins remove; never from a direct conversation. */
function specRemove(f: Facts): Outcome {
  const gate = specGate(f);
  if (gate) return gate;
  if (f.kind === 'direct') return 'conflict';
  if (!f.active) return 'conflict';
  return specAdmin(f) || f.owner ? 'allow' : 'forbidden';
}

/** Only rooms have roles; owners and admins change them, in an active room. */
function specChangeRole(f: Facts): Outcome {
  const gate = specGate(f);
  if (gate) return gate;
  if (f.kind !== 'room') return 'conflict';
  if (!f.active) return 'conflict';
  return specAdmin(f) || f.owner ? 'allow' : 'forbidden';
}

/** Attributes: a room's by owners and admins; a direct or group one's by any member or admin; only while active. */
function specUpdate(f: Facts): Outcome {
  const gate = specGate(f);
  if (gate) return gate;
  if (!f.active) return 'conflict';
  if (f.kind === 'room' && !f.owner && !specAdmin(f)) return 'forbidden';
  return 'allow';
}

/** Only rooms can be (de|re)activated, by owners and admins, whatever the current state. */
function specSetActive(f: Facts): Outcome {
  const gate = specGate(f);
  if (gate) return gate;
  if (f.kind !== 'room') return 'conflict';
  return specAdmin(f) || f.owner ? 'allow' : 'forbidden';
}

/** Owners and admins delete; either member of a direct conversation may. */
function specDeleteConversation(f: Facts): Outcome {
  const gate = specGate(f);
  if (gate) return gate;
  return specAdmin(f) || f.owner || f.kind === 'direct' ? 'allow' : 'forbidden';
}

/** Members "join" idempotently; others only public active rooms; private ones need an invitation. */
function specJoin(f: Facts): Outcome {
  if (f.member) return 'allow';
  if (specPublicRoom(f)) return f.active ? 'allow' : 'conflict';
  return specView(f) === 'allow' ? 'forbidden' : 'not_found';
}

interface MessageVariant {
  label: string;
  senderId: UserId;
  type: 'text' | 'html' | 'system';
  deletedAt: number | null;
}
const MESSAGES: readonly MessageVariant[] = (['self', 'other'] as const).flatMap((who) =>
  (['text', 'html', 'system'] as const).flatMap((type) =>
    [null, 1_700_000_000_000].map((deletedAt) => ({
      label: `${who}'s ${type} message${deletedAt === null ? '' : ' (deleted)'}`,
      senderId: who === 'self' ? SELF : OTHER,
      type,
      deletedAt,
    })),
  ),
);

/** Only the author edits, and only as a member; never system messages or deleted ones; not while deactivated. */
function specEdit(f: Facts, msg: MessageVariant): Outcome {
  const read = specRead(f);
  if (read !== 'allow') return read;
  if (msg.senderId !== SELF) return 'forbidden';
  if (msg.type === 'system') return 'forbidden';
  if (msg.deletedAt !== null) return 'conflict';
  if (!f.active) return 'conflict';
  // Editing is posting: in a read-only room only owners may change what they said.
  if (f.readOnly && !f.owner) return 'forbidden';
  return 'allow';
}

/** The author, an owner or an admin deletes; never system messages; not while deactivated. */
function specDeleteMessage(f: Facts, msg: MessageVariant): Outcome {
  const gate = specGate(f);
  if (gate) return gate;
  if (msg.type === 'system') return 'forbidden';
  if (!f.active) return 'conflict';
  return msg.senderId === SELF || f.owner || specAdmin(f) ? 'allow' : 'forbidden';
}

// ---- The matrix ----------------------------------------------------------------------------------------

const RULES: readonly {
  name: string;
  rule: (actor: Actor, conv: ConversationFacts, m: MembershipFacts) => Decision;
  spec: (f: Facts) => Outcome;
}[] = [
  { name: 'canView', rule: canView, spec: specView },
  { name: 'canRead', rule: canRead, spec: specRead },
  { name: 'canPost', rule: canPost, spec: specPost },
  { name: 'canAddMembers', rule: canAddMembers, spec: specAdd },
  { name: 'canRemoveMember', rule: canRemoveMember, spec: specRemove },
  { name: 'canChangeRole', rule: canChangeRole, spec: specChangeRole },
  { name: 'canUpdate', rule: canUpdate, spec: specUpdate },
  { name: 'canSetActive', rule: canSetActive, spec: specSetActive },
  { name: 'canDeleteConversation', rule: canDeleteConversation, spec: specDeleteConversation },
  { name: 'canJoin', rule: canJoin, spec: specJoin },
];

const expectDecision = (d: Decision, expected: Outcome): void => {
  expect(outcomeOf(d)).toBe(expected);
  if (!d.ok) expect(d.reason).toEqual(expect.any(String));
};

describe('the case matrix', () => {
  it('covers kind × public × readOnly × membersCanInvite × active × membership × admin × scopes', () => {
    expect(CASES).toHaveLength(3 * 2 * 2 * 2 * 2 * 3 * 2 * 2);
    expect(new Set(CASES.map((c) => c.label)).size).toBe(CASES.length);
  });
});

const EXPECTED_OUTCOMES: Record<string, readonly Outcome[]> = {
  canView: ['allow', 'not_found'],
  canRead: ['allow', 'forbidden', 'not_found'],
  canJoin: ['allow', 'conflict', 'forbidden', 'not_found'],
  canDeleteConversation: ['allow', 'forbidden', 'not_found'],
};

for (const { name, rule, spec } of RULES) {
  describe(name, () => {
    it('the matrix reaches every outcome the rule can give', () => {
      const reached = new Set(CASES.map((c) => spec(c.facts)));
      expect([...reached].sort()).toEqual([...(EXPECTED_OUTCOMES[name] ?? ['allow', 'conflict', 'forbidden', 'not_found'])].sort());
    });

    for (const c of CASES) it(c.label, () => {
      expectDecision(rule(c.actor, c.conv, c.m), spec(c.facts));
    });
  });
}

const MESSAGE_CASES = CASES.flatMap((c) => MESSAGES.map((msg) => ({ ...c, msg, label: `${c.label}: ${msg.label}` })));

describe('canEditMessage', () => {
  it('the matrix reaches every outcome', () => {
    expect(new Set(MESSAGE_CASES.map((c) => specEdit(c.facts, c.msg)))).toEqual(new Set(['allow', 'conflict', 'forbidden', 'not_found']));
  });

  for (const c of MESSAGE_CASES) it(c.label, () => {
    expectDecision(canEditMessage(c.actor, c.conv, c.m, c.msg), specEdit(c.facts, c.msg));
  });
});

describe('canDeleteMessage', () => {
  it('the matrix reaches every outcome', () => {
    expect(new Set(MESSAGE_CASES.map((c) => specDeleteMessage(c.facts, c.msg)))).toEqual(
      new Set(['allow', 'conflict', 'forbidden', 'not_found']),
    );
  });

  for (const c of MESSAGE_CASES) it(c.label, () => {
    expectDecision(canDeleteMessage(c.actor, c.conv, c.m, c.msg), specDeleteMessage(c.facts, c.msg));
  });
});

describe('canLeave', () => {
  const LEAVE_CASES = CONVERSATION_KINDS.flatMap((kind) =>
    BOOLS.flatMap((active) =>
      MEMBERSHIPS.flatMap((membership) =>
        [0, 1, 2, 3].flatMap((owners) =>
          [1, 2, 3].map((members) => ({
            label: `${kind} ${active ? 'active' : 'inactive'} ${membership.name}, ${owners} owner(s) of ${members} member(s)`,
            kind,
            active,
            membership,
            owners,
            members,
          })),
        ),
      ),
    ),
  );

  /** Any member may leave a group or room, except the last owner of a room with other members; direct never. */
  function specLeave(c: (typeof LEAVE_CASES)[number]): Outcome {
    if (c.membership.facts === null) return 'not_found';
    if (c.kind === 'direct') return 'conflict';
    const lastOwner = c.membership.facts.role === 'owner' && c.owners <= 1;
    if (c.kind === 'room' && lastOwner && c.members > 1) return 'conflict';
    return 'allow';
  }

  for (const c of LEAVE_CASES) it(c.label, () => {
    const conv: ConversationFacts = { kind: c.kind, public: false, readOnly: false, membersCanInvite: true, active: c.active };
    expectDecision(canLeave(conv, c.membership.facts, { owners: c.owners, members: c.members }), specLeave(c));
  });

  it('lets the last owner leave a room they are alone in', () => {
    const conv: ConversationFacts = { kind: 'room', public: false, readOnly: false, membersCanInvite: false, active: true };
    expect(canLeave(conv, { role: 'owner' }, { owners: 1, members: 1 }).ok).toBe(true);
  });
});

describe('keepsAnOwner', () => {
  const KEEP_CASES = (['owner', 'member'] as const satisfies readonly MemberRole[]).flatMap((role) =>
    [0, 1, 2, 3].map((owners) => ({ label: `removing/demoting a ${role} with ${owners} owner(s)`, role, owners })),
  );
  for (const { label, role, owners } of KEEP_CASES) it(label, () => {
    expectDecision(keepsAnOwner(role, owners), role === 'owner' && owners < 2 ? 'conflict' : 'allow');
  });
});

describe('actsAsAdmin', () => {
  const ADMIN_CASES = BOOLS.flatMap((admin) =>
    ([[], ['chat'], ['admin'], ['chat', 'admin'], ['admin', 'chat']] as Scope[][]).map((scopes) => ({
      label: `admin=${admin} scopes=[${scopes.join(',')}]`,
      admin,
      scopes,
      expected: admin && scopes.includes('admin'),
    })),
  );
  for (const { label, admin, scopes, expected } of ADMIN_CASES) it(label, () => {
    expect(actsAsAdmin({ admin, scopes })).toBe(expected);
  });
});

describe('canSeeMessage', () => {
  const HISTORY = [
    { name: 'no history limit', historyFrom: null },
    { name: 'history from earlier', historyFrom: 900 },
    { name: 'history from the same time', historyFrom: 1000 },
    { name: 'history from later', historyFrom: 1100 },
  ] as const;
  const VISIBLE_TO = [
    { name: 'to everyone', visibleTo: null },
    { name: 'to the viewer', visibleTo: SELF },
    { name: 'to someone else', visibleTo: 'usr_third' as UserId },
  ] as const;
  const SENDERS = [
    { name: 'sent by the viewer', senderId: SELF },
    { name: 'sent by another', senderId: OTHER },
  ] as const;
  const SEE_CASES = HISTORY.flatMap((h) =>
    VISIBLE_TO.flatMap((v) => SENDERS.map((s) => ({ label: `${h.name}, ${v.name}, ${s.name}`, h, v, s }))),
  );
  const CREATED_AT = 1000;

  /** Addressed to everyone, to the viewer, or sent by the viewer; and not before the viewer's history starts. */
  function specSee(c: (typeof SEE_CASES)[number]): boolean {
    const addressed = c.v.visibleTo === null || c.v.visibleTo === SELF || c.s.senderId === SELF;
    const inHistory = c.h.historyFrom === null || c.h.historyFrom <= CREATED_AT;
    return addressed && inHistory;
  }

  it('covers historyFrom × visibleTo × sender', () => {
    expect(SEE_CASES).toHaveLength(4 * 3 * 2);
  });

  for (const c of SEE_CASES) it(c.label, () => {
    const seen = canSeeMessage(
      { userId: SELF, historyFrom: c.h.historyFrom },
      { senderId: c.s.senderId, visibleTo: c.v.visibleTo, createdAt: CREATED_AT },
    );
    expect(seen).toBe(specSee(c));
  });
});

describe('enforce', () => {
  it('returns quietly on an allowing decision', () => {
    expect(() => enforce({ ok: true }, 'conversationId')).not.toThrow();
    expect(() => enforce({ ok: true })).not.toThrow();
  });

  it.each(['forbidden', 'not_found', 'conflict'] as const)('throws a ParleyError with the code %s, reason and target', (code) => {
    const decision: Decision = { ok: false, code, reason: `because ${code}` };
    let thrown: unknown;
    try {
      enforce(decision, 'conversationId');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ParleyError);
    expect(thrown).toMatchObject({ code, message: `because ${code}`, target: 'conversationId' });
  });

  it('leaves the target unset when none is given', () => {
    expect(() => enforce({ ok: false, code: 'forbidden', reason: 'no' })).toThrow(
      expect.objectContaining({ code: 'forbidden', target: undefined }),
    );
  });

  it('throws what a real rule denies with', () => {
    const actor: Actor = { id: SELF, kind: 'human', admin: false, displayName: 'Self', scopes: ['chat'] };
    const conv: ConversationFacts = { kind: 'group', public: false, readOnly: false, membersCanInvite: true, active: true };
    expect(() => enforce(canRead(actor, conv, null), 'conversationId')).toThrow(
      expect.objectContaining({ name: 'ParleyError', code: 'not_found', target: 'conversationId' }),
    );
  });
});
