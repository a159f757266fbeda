import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, PageQuerySchema, PageSchema, StringEnum, TimestampSchema } from './common.js';
import { EVENT_TYPES, type ParleyEvent } from './events.js';

/**
 * Headers of a webhook delivery. The signature is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"
 * keyed with the webhook secret>`; receivers recompute it over the raw bytes and refuse timestamps outside
 * their replay window (the bot SDK uses 5 minutes).
 */
export const WEBHOOK_HEADERS = {
  SIGNATURE: 'parley-signature',
  EVENT_ID: 'parley-event-id',
  DELIVERY_ID: 'parley-delivery-id',
  ATTEMPT: 'parley-delivery-attempt',
} as const;

/** The JSON body POSTed to a bot's webhook: one event, identified for de-duplication by `event.id`. */
export interface WebhookPayload {
  deliveryId: string;
  botId: string;
  event: ParleyEvent;
}

export const WebhookEventTypeSchema = StringEnum(EVENT_TYPES);

/** A bot's outgoing webhook: where the server POSTs the events of the bot's conversations. */
export const WebhookSchema = Type.Object(
  {
    userId: IdSchema,
    url: Type.String(),
    events: Type.Union([Type.Array(WebhookEventTypeSchema), Type.Null()], { description: 'Event types delivered; null delivers all' }),
    active: Type.Boolean(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { title: 'Webhook' },
);
export type Webhook = Static<typeof WebhookSchema>;

export const PutWebhookRequestSchema = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'An http:// or https:// URL' }),
    events: Type.Optional(Type.Union([Type.Array(WebhookEventTypeSchema, { minItems: 1, uniqueItems: true }), Type.Null()])),
    active: Type.Optional(Type.Boolean({ description: 'Default true; an inactive webhook queues nothing' })),
    rotateSecret: Type.Optional(Type.Boolean({ description: 'Make a new signing secret (returned once)' })),
  },
  { additionalProperties: false, title: 'PutWebhookRequest' },
);
export type PutWebhookRequest = Static<typeof PutWebhookRequestSchema>;

export const PutWebhookResultSchema = Type.Object(
  {
    webhook: WebhookSchema,
    secret: Type.Union([Type.String(), Type.Null()], {
      description: 'The signing secret, shown once: when the webhook is created or the secret rotated; null otherwise',
    }),
  },
  { title: 'PutWebhookResult' },
);
export type PutWebhookResult = Static<typeof PutWebhookResultSchema>;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event's delivery to one bot: its state and the outcome of its last attempt. */
export const WebhookDeliverySchema = Type.Object(
  {
    id: IdSchema,
    userId: IdSchema,
    eventId: IdSchema,
    eventType: Type.String(),
    conversationId: IdSchema,
    seq: Type.Integer(),
    status: StringEnum(DELIVERY_STATUSES),
    attempts: Type.Integer(),
    nextAttemptAt: Type.Union([TimestampSchema, Type.Null()]),
    lastStatus: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last attempt; null when it got none' }),
    lastError: Type.Union([Type.String(), Type.Null()]),
    createdAt: TimestampSchema,
    deliveredAt: Type.Union([TimestampSchema, Type.Null()]),
  },
  { title: 'WebhookDelivery' },
);
export type WebhookDelivery = Static<typeof WebhookDeliverySchema>;

export const ListDeliveriesQuerySchema = Type.Composite([
  Type.Omit(PageQuerySchema, ['skip']),
  Type.Object({ status: Type.Optional(StringEnum(DELIVERY_STATUSES)) }),
]);
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuerySchema>;

export const WebhookDeliveryPageSchema = PageSchema(WebhookDeliverySchema, 'WebhookDeliveryPage');

export const DeliveryParamsSchema = Type.Object({ userId: IdSchema, deliveryId: IdSchema });
