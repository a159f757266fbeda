import { Type, type Static } from '@sinclair/typebox';
import {
  IdSchema,
  IdempotencyKeySchema,
  MetadataSchema,
  PageSchema,
  TimestampSchema,
  StringEnum,
} from './common.js';
import { AttachmentSchema } from './attachments.js';
import { DisplayNameSchema } from './users.js';

export const MESSAGE_TYPES = ['text', 'html', 'system', 'share'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** What a system message records. */
export const SYSTEM_EVENTS = [
  'conversation.created',
  'member.added',
  'member.removed',
  'member.role_changed',
  'title.changed',
  'conversation.deactivated',
  'conversation.reactivated',
] as const;
export type SystemEvent = (typeof SYSTEM_EVENTS)[number];

/** Third-party content shared into a conversation (Symphony `ShareContent`). */
export const ShareContentSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 512 }),
    url: Type.String({ format: 'uri', maxLength: 2048, pattern: '^https?://' }),
    summary: Type.Optional(Type.String({ maxLength: 4096 })),
    imageUrl: Type.Optional(Type.String({ format: 'uri', maxLength: 2048, pattern: '^https?://' })),
    publisher: Type.Optional(Type.String({ maxLength: 256 })),
    author: Type.Optional(Type.String({ maxLength: 256 })),
    publishedAt: Type.Optional(TimestampSchema),
  },
  { additionalProperties: false, title: 'ShareContent' },
);
export type ShareContent = Static<typeof ShareContentSchema>;

/** The structured part of a system message. */
export const SystemContentSchema = Type.Object(
  {
    event: StringEnum(SYSTEM_EVENTS),
    actorId: Type.Union([IdSchema, Type.Null()]),
    userIds: Type.Optional(Type.Array(IdSchema)),
    role: Type.Optional(Type.String()),
    title: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    previousTitle: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { title: 'SystemContent' },
);
export type SystemContent = Static<typeof SystemContentSchema>;

/** A message. Deleted messages stay as tombstones: same id and seq, `deletedAt` set, content cleared. */
/** A member named with `@handle` in a message, resolved by the server when the message was sent or edited. */
export const MentionSchema = Type.Object({ userId: IdSchema, handle: Type.String() }, { title: 'Mention' });
export type Mention = Static<typeof MentionSchema>;

export const MessageSchema = Type.Object(
  {
    id: IdSchema,
    conversationId: IdSchema,
    seq: Type.Integer({ description: 'Dense, strictly increasing position in the conversation, from 1' }),
    type: StringEnum(MESSAGE_TYPES),
    content: Type.String({ description: 'Text, sanitised HTML, or a readable rendering of a system/share message' }),
    senderId: IdSchema,
    senderDisplayName: Type.String(),
    metadata: MetadataSchema,
    share: Type.Union([ShareContentSchema, Type.Null()]),
    system: Type.Union([SystemContentSchema, Type.Null()]),
    visibleTo: Type.Union([IdSchema, Type.Null()], { description: 'When set, only this member sees the message' }),
    attachments: Type.Array(AttachmentSchema, { description: 'Files sent with the message (empty when none; removed when it is deleted)' }),
    mentions: Type.Array(MentionSchema, { description: 'Members the text names with `@handle`, in order of first mention' }),
    version: Type.Integer({ description: '1 when sent; each edit adds 1' }),
    createdAt: TimestampSchema,
    editedAt: Type.Union([TimestampSchema, Type.Null()]),
    deletedAt: Type.Union([TimestampSchema, Type.Null()]),
  },
  { title: 'Message' },
);
export type Message = Static<typeof MessageSchema>;

const SendCommon = {
  metadata: Type.Optional(MetadataSchema),
  senderDisplayName: Type.Optional(DisplayNameSchema),
  idempotencyKey: Type.Optional(IdempotencyKeySchema),
  visibleTo: Type.Optional(IdSchema),
};

const SendAttachments = {
  attachments: Type.Optional(
    Type.Array(IdSchema, {
      uniqueItems: true,
      description: 'Ids of your pending uploads to this conversation (at most `maxAttachmentsPerMessage`)',
    }),
  ),
};

export const SendTextMessageSchema = Type.Object(
  {
    type: Type.Optional(Type.Literal('text')),
    content: Type.Optional(Type.String({ minLength: 1, description: 'Required unless the message has attachments' })),
    ...SendAttachments,
    ...SendCommon,
  },
  { additionalProperties: false, title: 'SendTextMessage' },
);
export const SendHtmlMessageSchema = Type.Object(
  { type: Type.Literal('html'), content: Type.String({ minLength: 1 }), ...SendAttachments, ...SendCommon },
  { additionalProperties: false, title: 'SendHtmlMessage' },
);
export const SendShareMessageSchema = Type.Object(
  { type: Type.Literal('share'), share: ShareContentSchema, content: Type.Optional(Type.String()), ...SendCommon },
  { additionalProperties: false, title: 'SendShareMessage' },
);

/**
 * A message to send: `text` (the default type), `html` (sanitised by the server) or `share`
 * (third-party content). Text and HTML messages may carry `attachments` (ids of uploads); a text
 * message with attachments may leave out `content`. `Repeatability-Request-Id` or `idempotencyKey`
 * makes a retried send safe.
 */
export const SendMessageRequestSchema = Type.Union(
  [SendTextMessageSchema, SendHtmlMessageSchema, SendShareMessageSchema],
  { title: 'SendMessageRequest' },
);
export type SendMessageRequest = Static<typeof SendMessageRequestSchema>;

export const EditMessageRequestSchema = Type.Object(
  {
    content: Type.Optional(Type.String({ minLength: 1 })),
    metadata: Type.Optional(MetadataSchema),
  },
  { additionalProperties: false, title: 'EditMessageRequest', minProperties: 1 },
);
export type EditMessageRequest = Static<typeof EditMessageRequestSchema>;

export const MESSAGE_ORDERS = ['asc', 'desc'] as const;

export const ListMessagesQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Page size (maximum in `GET /v1/limits`)' })),
  before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Only messages with seq below this' })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Only messages with seq above this' })),
  startTime: Type.Optional(Type.String({ format: 'date-time', description: 'Only messages sent at or after this time' })),
  order: Type.Optional(
    StringEnum(MESSAGE_ORDERS, { description: '`desc` (newest first, default) or `asc`' }),
  ),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
});
export type ListMessagesQuery = Static<typeof ListMessagesQuerySchema>;
export const MessagePageSchema = PageSchema(MessageSchema, 'MessagePage');

export const MessageParamsSchema = Type.Object({ conversationId: IdSchema, messageId: IdSchema });
