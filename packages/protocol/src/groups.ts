import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, PageQuerySchema, PageSchema, StringEnum, TimestampSchema } from './common.js';
import { MemberFailureSchema } from './members.js';

/**
 * Who can see and use a group. `public` (a Teamwire circle): every user can see it and add its members
 * to a conversation. `private` (a personal list): only its owner, its members and admins.
 */
export const GROUP_VISIBILITIES = ['public', 'private'] as const;
export type GroupVisibility = (typeof GROUP_VISIBILITIES)[number];
export const GroupVisibilitySchema = StringEnum(GROUP_VISIBILITIES);

const GroupName = Type.String({ minLength: 1, maxLength: 256 });
const GroupDescription = Type.String({ maxLength: 4096 });

/**
 * A named set of users. Adding a group to a conversation adds the group's current members (a snapshot:
 * later changes to the group do not change the conversation). Bots may use only public groups.
 */
export const GroupSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    description: Type.String(),
    visibility: GroupVisibilitySchema,
    ownerId: Type.Union([IdSchema, Type.Null()], { description: 'Who manages the group; null once that account is deleted (admins manage it then)' }),
    memberCount: Type.Integer(),
    isMember: Type.Boolean({ description: 'Whether the caller belongs to the group' }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { title: 'Group' },
);
export type Group = Static<typeof GroupSchema>;

export const CreateGroupRequestSchema = Type.Object(
  {
    name: GroupName,
    description: Type.Optional(GroupDescription),
    visibility: Type.Optional(StringEnum(GROUP_VISIBILITIES, { description: 'Default `private`; bots create public groups only' })),
    members: Type.Optional(Type.Array(IdSchema, { description: 'Initial members (user ids); the creator is not added implicitly' })),
  },
  { additionalProperties: false, title: 'CreateGroupRequest' },
);
export type CreateGroupRequest = Static<typeof CreateGroupRequestSchema>;

export const CreateGroupResultSchema = Type.Object(
  { group: GroupSchema, failures: Type.Array(MemberFailureSchema, { description: 'Initial members that could not be added' }) },
  { title: 'CreateGroupResult' },
);
export type CreateGroupResult = Static<typeof CreateGroupResultSchema>;

export const UpdateGroupRequestSchema = Type.Object(
  {
    name: Type.Optional(GroupName),
    description: Type.Optional(GroupDescription),
    visibility: Type.Optional(GroupVisibilitySchema),
  },
  { additionalProperties: false, minProperties: 1, title: 'UpdateGroupRequest' },
);
export type UpdateGroupRequest = Static<typeof UpdateGroupRequestSchema>;

export const ListGroupsQuerySchema = Type.Composite([
  PageQuerySchema,
  Type.Object({
    visibility: Type.Optional(GroupVisibilitySchema),
    mine: Type.Optional(Type.Boolean({ description: 'Only groups the caller owns or belongs to' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Exact name' })),
  }),
]);
export type ListGroupsQuery = Static<typeof ListGroupsQuerySchema>;

export const GroupPageSchema = PageSchema(GroupSchema, 'GroupPage');

/** A member of a group, with a summary of the user for display. */
export const GroupMemberSchema = Type.Object(
  {
    groupId: IdSchema,
    userId: IdSchema,
    handle: Type.String(),
    displayName: Type.String(),
    kind: Type.String(),
    addedAt: TimestampSchema,
  },
  { title: 'GroupMember' },
);
export type GroupMember = Static<typeof GroupMemberSchema>;

export const GroupMemberPageSchema = Type.Object(
  {
    items: Type.Array(GroupMemberSchema),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
    total: Type.Integer({ description: 'Members in the group' }),
  },
  { title: 'GroupMemberPage' },
);
export type GroupMemberPage = Static<typeof GroupMemberPageSchema>;

export const AddGroupMembersRequestSchema = Type.Object(
  { members: Type.Array(IdSchema, { minItems: 1 }) },
  { additionalProperties: false, title: 'AddGroupMembersRequest' },
);
export type AddGroupMembersRequest = Static<typeof AddGroupMembersRequestSchema>;

export const AddGroupMembersResultSchema = Type.Object(
  { added: Type.Array(GroupMemberSchema), failures: Type.Array(MemberFailureSchema) },
  { title: 'AddGroupMembersResult' },
);
export type AddGroupMembersResult = Static<typeof AddGroupMembersResultSchema>;

export const GroupParamsSchema = Type.Object({ groupId: IdSchema });
export type GroupParams = Static<typeof GroupParamsSchema>;
export const GroupMemberParamsSchema = Type.Object({ groupId: IdSchema, userId: IdSchema });
export type GroupMemberParams = Static<typeof GroupMemberParamsSchema>;
