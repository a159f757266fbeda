import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, PageQuerySchema, PageSchema, StringEnum, TimestampSchema } from './common.js';
import { ConversationKindSchema, ConversationSchema } from './conversations.js';

/** A conversation as the admin listing shows it: the same for every admin, so without a caller's view. */
export const AdminConversationSchema = Type.Omit(ConversationSchema, ['myRole', 'unreadCount', 'lastReadSeq'], {
  title: 'AdminConversation',
});
export type AdminConversation = Static<typeof AdminConversationSchema>;

/** How the admin listing orders conversations. */
export const ADMIN_CONVERSATION_SORTS = ['created', 'updated', 'activity', 'members'] as const;
export type AdminConversationSort = (typeof ADMIN_CONVERSATION_SORTS)[number];
export const SORT_ORDERS = ['asc', 'desc'] as const;

const Since = Type.String({ format: 'date-time', description: 'Inclusive lower bound' });
const Until = Type.String({ format: 'date-time', description: 'Exclusive upper bound' });

/** `GET /v1/admin/conversations`: every conversation of every kind; every filter given must hold. */
export const ListAdminConversationsQuerySchema = Type.Composite(
  [
    PageQuerySchema,
    Type.Object({
      kind: Type.Optional(Type.Array(ConversationKindSchema, { maxItems: 3, description: 'One or more kinds; repeat the parameter' })),
      active: Type.Optional(Type.Boolean()),
      creator: Type.Optional(IdSchema),
      createdSince: Type.Optional(Since),
      createdUntil: Type.Optional(Until),
      updatedSince: Type.Optional(Since),
      updatedUntil: Type.Optional(Until),
      minMembers: Type.Optional(Type.Integer({ minimum: 0, description: 'At least this many members' })),
      maxMembers: Type.Optional(Type.Integer({ minimum: 0, description: 'At most this many members' })),
      sort: Type.Optional(
        StringEnum(ADMIN_CONVERSATION_SORTS, {
          description: 'By creation time (default), last update, last activity, or member count',
        }),
      ),
      order: Type.Optional(StringEnum(SORT_ORDERS, { description: '`asc` (default) or `desc`' })),
    }),
  ],
  { additionalProperties: false },
);
export type ListAdminConversationsQuery = Static<typeof ListAdminConversationsQuerySchema>;
export const AdminConversationPageSchema = PageSchema(AdminConversationSchema, 'AdminConversationPage');

/** Every kind of action the audit log records. */
export const AUDIT_ACTIONS = [
  'user.created',
  'user.updated',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'user.tokens_revoked',
  'token.issued',
  'api_key.created',
  'api_key.deleted',
  'api_key.rotated',
  'conversation.updated',
  'conversation.deactivated',
  'conversation.reactivated',
  'conversation.deleted',
  'member.added',
  'member.removed',
  'member.role_changed',
  'message.deleted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What an audit entry is about. */
export const AUDIT_TARGET_TYPES = ['user', 'api_key', 'conversation', 'message'] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

/** One recorded admin action: who, what, when, on what, and the particulars. */
export const AuditEntrySchema = Type.Object(
  {
    id: IdSchema,
    at: TimestampSchema,
    actorId: IdSchema,
    actorName: Type.String({ description: 'The actor\'s display name when it acted' }),
    action: StringEnum(AUDIT_ACTIONS),
    targetType: StringEnum(AUDIT_TARGET_TYPES),
    targetId: IdSchema,
    details: Type.Record(Type.String(), Type.Unknown(), { description: 'What changed; never secrets' }),
  },
  { title: 'AuditEntry' },
);
export type AuditEntry = Static<typeof AuditEntrySchema>;

/** `GET /v1/admin/audit-log`: newest first; every filter given must hold. */
export const ListAuditLogQuerySchema = Type.Composite(
  [
    PageQuerySchema,
    Type.Object({
      actorId: Type.Optional(IdSchema),
      action: Type.Optional(
        Type.String({
          pattern: '^[a-z_]+\\.(\\*|[a-z_]+)$',
          maxLength: 64,
          description: 'An action (`user.created`) or a family of them (`user.*`)',
        }),
      ),
      targetType: Type.Optional(StringEnum(AUDIT_TARGET_TYPES)),
      targetId: Type.Optional(IdSchema),
      since: Type.Optional(Since),
      until: Type.Optional(Until),
    }),
  ],
  { additionalProperties: false },
);
export type ListAuditLogQuery = Static<typeof ListAuditLogQuerySchema>;
export const AuditPageSchema = PageSchema(AuditEntrySchema, 'AuditPage');
