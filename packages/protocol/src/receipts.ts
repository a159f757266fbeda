import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, PageSchema, TimestampSchema } from './common.js';

/** How far a member has read: up to and including one message. */
export const ReadReceiptSchema = Type.Object(
  {
    conversationId: IdSchema,
    userId: IdSchema,
    messageId: IdSchema,
    messageSeq: Type.Integer(),
    readAt: TimestampSchema,
  },
  { title: 'ReadReceipt' },
);
export type ReadReceipt = Static<typeof ReadReceiptSchema>;

export const MarkReadRequestSchema = Type.Object(
  {
    messageId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Read up to this message; the newest when omitted' }),
    ),
  },
  { additionalProperties: false, title: 'MarkReadRequest' },
);
export type MarkReadRequest = Static<typeof MarkReadRequestSchema>;

export const ReceiptPageSchema = PageSchema(ReadReceiptSchema, 'ReceiptPage');

/** The answer to a typing notification: whether it went out, or was throttled. */
export const TypingResultSchema = Type.Object(
  {
    sent: Type.Boolean({ description: 'False when throttled: one notification per member per interval' }),
    retryAfterMs: Type.Integer({ description: 'When the next one would be sent (0 when sent)' }),
  },
  { title: 'TypingResult' },
);
export type TypingResult = Static<typeof TypingResultSchema>;

/** A small JSON status addressed to one member (e.g. a bot): delivered to it alone, live and on resume. */
export const SendSignalRequestSchema = Type.Object(
  {
    to: IdSchema,
    data: Type.Unknown({ description: 'Any JSON, up to maxSignalBytes' }),
  },
  { additionalProperties: false, title: 'SendSignalRequest' },
);
export type SendSignalRequest = Static<typeof SendSignalRequestSchema>;

export const SignalResultSchema = Type.Object(
  { eventId: IdSchema, seq: Type.Integer() },
  { title: 'SignalResult' },
);
export type SignalResult = Static<typeof SignalResultSchema>;
