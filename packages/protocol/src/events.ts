import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { IdSchema, TimestampSchema } from './common.js';
import { ConversationSchema } from './conversations.js';
import { MemberSchema } from './members.js';
import { MessageSchema } from './messages.js';
import { ReadReceiptSchema } from './receipts.js';

function EventSchema<TType extends string, TData extends TSchema>(type: TType, data: TData) {
  return Type.Object(
    {
      id: IdSchema,
      type: Type.Literal(type),
      conversationId: IdSchema,
      seq: Type.Integer({ description: 'Dense per-conversation event position, from 1' }),
      actorId: Type.Union([IdSchema, Type.Null()]),
      createdAt: TimestampSchema,
      data,
    },
    { title: `Event.${type}` },
  );
}

export const MessageCreatedEventSchema = EventSchema('message.created', Type.Object({ message: MessageSchema }));
export const MessageEditedEventSchema = EventSchema('message.edited', Type.Object({ message: MessageSchema }));
export const MessageDeletedEventSchema = EventSchema('message.deleted', Type.Object({ message: MessageSchema }));
export const MemberAddedEventSchema = EventSchema('member.added', Type.Object({ member: MemberSchema }));
export const MemberRemovedEventSchema = EventSchema(
  'member.removed',
  Type.Object({ member: MemberSchema, left: Type.Boolean({ description: 'True when the member left by itself' }) }),
);
export const MemberRoleChangedEventSchema = EventSchema(
  'member.role_changed',
  Type.Object({ member: MemberSchema, previousRole: Type.String() }),
);
const ConversationData = Type.Object({
  conversation: Type.Omit(ConversationSchema, ['myRole', 'unreadCount', 'lastReadSeq']),
  changes: Type.Array(Type.String(), { description: 'Names of the attributes that changed' }),
});
export const ReceiptReadEventSchema = EventSchema('receipt.read', Type.Object({ receipt: ReadReceiptSchema }));
export const SignalEventSchema = EventSchema(
  'signal',
  Type.Object({
    to: IdSchema,
    data: Type.Unknown({ description: 'The sender\'s JSON payload' }),
  }),
);
export const ConversationCreatedEventSchema = EventSchema('conversation.created', ConversationData);
export const ConversationUpdatedEventSchema = EventSchema('conversation.updated', ConversationData);
export const ConversationDeactivatedEventSchema = EventSchema('conversation.deactivated', ConversationData);
export const ConversationReactivatedEventSchema = EventSchema('conversation.reactivated', ConversationData);
export const ConversationDeletedEventSchema = EventSchema('conversation.deleted', ConversationData);

/** Every stored event, discriminated by `type`. */
export const ParleyEventSchema = Type.Union(
  [
    MessageCreatedEventSchema,
    MessageEditedEventSchema,
    MessageDeletedEventSchema,
    MemberAddedEventSchema,
    MemberRemovedEventSchema,
    MemberRoleChangedEventSchema,
    ConversationCreatedEventSchema,
    ConversationUpdatedEventSchema,
    ConversationDeactivatedEventSchema,
    ConversationReactivatedEventSchema,
    ConversationDeletedEventSchema,
    ReceiptReadEventSchema,
    SignalEventSchema,
  ],
  { title: 'ParleyEvent' },
);
export type ParleyEvent = Static<typeof ParleyEventSchema>;
export type ParleyEventType = ParleyEvent['type'];
/** Event type → event shape, for typed handlers: `on<K extends keyof ParleyEvents>(type: K, …)`. */
export type ParleyEvents = { [K in ParleyEventType]: Extract<ParleyEvent, { type: K }> };
/** The `data` of each event type. */
export type ParleyEventData<K extends ParleyEventType> = ParleyEvents[K]['data'];

export const EVENT_TYPES = [
  'message.created',
  'message.edited',
  'message.deleted',
  'member.added',
  'member.removed',
  'member.role_changed',
  'conversation.created',
  'conversation.updated',
  'conversation.deactivated',
  'conversation.reactivated',
  'conversation.deleted',
  'receipt.read',
  'signal',
] as const satisfies readonly ParleyEventType[];

export const ListEventsQuerySchema = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Return events with seq above this (default 0)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type ListEventsQuery = Static<typeof ListEventsQuerySchema>;

export const EventPageSchema = Type.Object(
  {
    items: Type.Array(ParleyEventSchema),
    lastSeq: Type.Integer({ description: 'The conversation\'s newest seq when the page was read' }),
    hasMore: Type.Boolean(),
  },
  { title: 'EventPage' },
);
export type EventPage = Static<typeof EventPageSchema>;
