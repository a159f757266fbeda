import { Type, type Static } from '@sinclair/typebox';
import { ErrorDetailSchema } from './errors.js';
import { GroupRefsSchema, IdSchema, PageQuerySchema, TimestampSchema, StringEnum } from './common.js';

export const MEMBER_ROLES = ['owner', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];
export const MemberRoleSchema = StringEnum(MEMBER_ROLES);

/** A member of a conversation, with a summary of the user for display. */
export const MemberSchema = Type.Object(
  {
    conversationId: IdSchema,
    userId: IdSchema,
    role: MemberRoleSchema,
    historyFrom: Type.Union([TimestampSchema, Type.Null()], {
      description: 'Share-history time: the member sees only messages sent at or after it; null sees all',
    }),
    joinedAt: TimestampSchema,
    handle: Type.String(),
    displayName: Type.String(),
    kind: Type.String(),
  },
  { title: 'Member' },
);
export type Member = Static<typeof MemberSchema>;

/** Who to add: a user id, or a user id with a role and a share-history time. */
export const MemberSpecSchema = Type.Union([
  IdSchema,
  Type.Object(
    {
      userId: IdSchema,
      role: Type.Optional(MemberRoleSchema),
      historyFrom: Type.Optional(TimestampSchema),
      displayName: Type.Optional(
        Type.String({ minLength: 1, maxLength: 256, description: 'The member\'s name in this conversation (ACS participant display name); default: the user\'s' }),
      ),
    },
    { additionalProperties: false },
  ),
]);
export type MemberSpec = Static<typeof MemberSpecSchema>;

export const AddMembersRequestSchema = Type.Object(
  {
    members: Type.Optional(Type.Array(MemberSpecSchema, { minItems: 1 })),
    groups: Type.Optional(GroupRefsSchema),
  },
  { additionalProperties: false, minProperties: 1, title: 'AddMembersRequest', description: 'Members, groups, or both' },
);
export type AddMembersRequest = Static<typeof AddMembersRequestSchema>;

/** One participant that could not be added, and why. */
export const MemberFailureSchema = Type.Object(
  { userId: Type.String(), error: ErrorDetailSchema },
  { title: 'MemberFailure' },
);
export type MemberFailure = Static<typeof MemberFailureSchema>;

/** Bulk add: who was added (members already present are left as they are) and who failed. */
export const AddMembersResultSchema = Type.Object(
  { added: Type.Array(MemberSchema), failures: Type.Array(MemberFailureSchema) },
  { title: 'AddMembersResult' },
);
export type AddMembersResult = Static<typeof AddMembersResultSchema>;

export const UpdateMemberRequestSchema = Type.Object(
  { role: MemberRoleSchema },
  { additionalProperties: false, title: 'UpdateMemberRequest' },
);
export type UpdateMemberRequest = Static<typeof UpdateMemberRequestSchema>;

export const ListMembersQuerySchema = PageQuerySchema;
export type ListMembersQuery = Static<typeof ListMembersQuerySchema>;

export const MemberPageSchema = Type.Object(
  {
    items: Type.Array(MemberSchema),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
    total: Type.Integer({ description: 'Members in the conversation' }),
  },
  { title: 'MemberPage' },
);
export type MemberPage = Static<typeof MemberPageSchema>;

export const MemberParamsSchema = Type.Object({ conversationId: IdSchema, userId: IdSchema });
