import { Type, type Static } from '@sinclair/typebox';
import { GroupRefsSchema, IdSchema, IdempotencyKeySchema, MetadataSchema, PageQuerySchema, PageSchema, TimestampSchema, StringEnum } from './common.js';
import { MemberRoleSchema, MemberSpecSchema } from './members.js';
import { MessageSchema, SendMessageRequestSchema } from './messages.js';

/**
 * `direct`: two people, opening it again returns the same one. `group`: ad-hoc multi-party, the same
 * member set returns the same one. `room`: named, with attributes and owners.
 */
export const CONVERSATION_KINDS = ['direct', 'group', 'room'] as const;
export type ConversationKind = (typeof CONVERSATION_KINDS)[number];
export const ConversationKindSchema = StringEnum(CONVERSATION_KINDS);

const Title = Type.String({ minLength: 1 });

/**
 * When a conversation deletes itself (ACS `ChatRetentionPolicy`): `threadCreationDate` deletes it
 * `deleteThreadAfterDays` after it was created; `none` keeps it.
 */
export const RetentionPolicySchema = Type.Union(
  [
    Type.Object(
      { kind: Type.Literal('threadCreationDate'), deleteThreadAfterDays: Type.Integer({ minimum: 1, maximum: 90 }) },
      { additionalProperties: false },
    ),
    Type.Object({ kind: Type.Literal('none') }, { additionalProperties: false }),
  ],
  { title: 'RetentionPolicy' },
);
export type RetentionPolicy = Static<typeof RetentionPolicySchema>;
const Keywords = Type.Array(Type.String({ minLength: 1, maxLength: 64 }));

/** A conversation as its members see it. */
export const ConversationSchema = Type.Object(
  {
    id: IdSchema,
    kind: ConversationKindSchema,
    title: Type.Union([Type.String(), Type.Null()]),
    description: Type.String(),
    keywords: Type.Array(Type.String()),
    public: Type.Boolean({ description: 'Anyone may find and join (rooms)' }),
    discoverable: Type.Boolean({ description: 'Shows up in room search for non-members' }),
    readOnly: Type.Boolean({ description: 'Only owners may post' }),
    membersCanInvite: Type.Boolean({ description: 'Members (not only owners) may add members' }),
    historyVisibleToNewMembers: Type.Boolean({ description: 'New members see messages sent before they joined' }),
    pinnedMessageId: Type.Union([IdSchema, Type.Null()]),
    active: Type.Boolean({ description: 'Deactivated conversations are readable but take no messages or members' }),
    metadata: MetadataSchema,
    retentionPolicy: Type.Union([RetentionPolicySchema, Type.Null()], { description: 'When the conversation deletes itself; null: never' }),
    createdBy: IdSchema,
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
    lastActivityAt: TimestampSchema,
    lastSeq: Type.Integer({ description: 'Seq of the newest event in the conversation' }),
    lastMessageSeq: Type.Integer({ description: 'Seq of the newest message' }),
    memberCount: Type.Integer(),
    myRole: Type.Union([MemberRoleSchema, Type.Null()], { description: 'The caller\'s role; null when not a member' }),
    unreadCount: Type.Integer({
      description: 'Messages from others the caller has not marked read (0 when not a member); system messages do not count',
    }),
    lastReadSeq: Type.Integer({ description: 'Seq of the last message the caller marked read (0: none)' }),
  },
  { title: 'Conversation' },
);
export type Conversation = Static<typeof ConversationSchema>;

const RoomAttributes = {
  title: Type.Optional(Title),
  description: Type.Optional(Type.String()),
  keywords: Type.Optional(Keywords),
  public: Type.Optional(Type.Boolean()),
  discoverable: Type.Optional(Type.Boolean()),
  readOnly: Type.Optional(Type.Boolean()),
  membersCanInvite: Type.Optional(Type.Boolean()),
  historyVisibleToNewMembers: Type.Optional(Type.Boolean()),
  metadata: Type.Optional(MetadataSchema),
};

export const CreateConversationRequestSchema = Type.Object(
  {
    kind: ConversationKindSchema,
    ...RoomAttributes,
    members: Type.Optional(
      Type.Array(MemberSpecSchema, { description: 'Users to add besides the creator (direct: exactly one)' }),
    ),
    groups: Type.Optional(GroupRefsSchema),
    includeCreator: Type.Optional(
      Type.Boolean({
        description:
          'Default true. Admins may pass false to create a direct or group conversation between others (at least two).',
      }),
    ),
    message: Type.Optional(SendMessageRequestSchema),
    retentionPolicy: Type.Optional(RetentionPolicySchema),
    idempotencyKey: Type.Optional(IdempotencyKeySchema),
  },
  { additionalProperties: false, title: 'CreateConversationRequest' },
);
export type CreateConversationRequest = Static<typeof CreateConversationRequestSchema>;

export const CreateConversationResultSchema = Type.Object(
  {
    conversation: ConversationSchema,
    message: Type.Union([MessageSchema, Type.Null()], { description: 'The first message, when one was given' }),
    created: Type.Boolean({ description: 'False when an existing direct or group conversation was returned' }),
  },
  { title: 'CreateConversationResult' },
);
export type CreateConversationResult = Static<typeof CreateConversationResultSchema>;

export const UpdateConversationRequestSchema = Type.Object(
  {
    ...RoomAttributes,
    title: Type.Optional(Type.Union([Title, Type.Null()])),
    pinnedMessageId: Type.Optional(Type.Union([IdSchema, Type.Null()])),
    retentionPolicy: Type.Optional(Type.Union([RetentionPolicySchema, Type.Null()], { description: 'null removes the policy' })),
  },
  { additionalProperties: false, minProperties: 1, title: 'UpdateConversationRequest' },
);
export type UpdateConversationRequest = Static<typeof UpdateConversationRequestSchema>;

export const CONVERSATION_SORTS = ['created', 'activity'] as const;

export const ListConversationsQuerySchema = Type.Composite([
  PageQuerySchema,
  Type.Object({
    kind: Type.Optional(ConversationKindSchema),
    active: Type.Optional(Type.Boolean()),
    updatedSince: Type.Optional(Type.String({ format: 'date-time' })),
    activeSince: Type.Optional(
      Type.String({ format: 'date-time', description: 'Only conversations with activity (a message or other event) at or after this time' }),
    ),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Exact title' })),
    sort: Type.Optional(
      StringEnum(CONVERSATION_SORTS, {
        description: '`created` (oldest first, default) or `activity` (most recently active first)',
      }),
    ),
  }),
]);
export type ListConversationsQuery = Static<typeof ListConversationsQuerySchema>;
export const ConversationPageSchema = PageSchema(ConversationSchema, 'ConversationPage');
