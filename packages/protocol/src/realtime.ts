import { Type, type Static } from '@sinclair/typebox';
import type { ErrorBodySchema } from './errors.js';
import type { ParleyEvent } from './events.js';
import { IdSchema, IdempotencyKeySchema } from './common.js';
import { SendMessageRequestSchema } from './messages.js';

/** The WebSocket endpoint, and the subprotocol a client offers (with `parley.bearer.<token>` to authenticate). */
export const REALTIME_PATH = '/v1/realtime';
export const REALTIME_SUBPROTOCOL = 'parley.v1';
export const REALTIME_BEARER_PREFIX = 'parley.bearer.';

/**
 * Close codes the server uses. 4xxx are Parley's own; a client should reconnect (and resume) after
 * `SLOW_CONSUMER`, `SERVER_SHUTDOWN` and `HEARTBEAT_TIMEOUT`, and get a new credential after `UNAUTHENTICATED`.
 */
export const CLOSE_CODES = {
  /** The server is shutting down; reconnect to another process or later. */
  SERVER_SHUTDOWN: 1001,
  /** A frame was larger than the limit. */
  FRAME_TOO_LARGE: 1009,
  /** The credential is missing, invalid, expired or was revoked. */
  UNAUTHENTICATED: 4001,
  /** The client did not read fast enough; its buffer overflowed. Reconnect and resume. */
  SLOW_CONSUMER: 4009,
  /** No answer to heartbeats. */
  HEARTBEAT_TIMEOUT: 4010,
  /** Too many malformed frames in a row. */
  PROTOCOL_ERROR: 4400,
} as const;

// Client → server frames. `ref` is echoed in the answer (`ack` or `error`).

const Ref = Type.Optional(Type.String({ maxLength: 100 }));

export const ResumeFrameSchema = Type.Object(
  {
    type: Type.Literal('resume'),
    ref: Ref,
    positions: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.Integer({ minimum: 0 }), {
        description: 'The last event seq seen per conversation; conversations left out replay from when the user joined',
      }),
    ),
  },
  { additionalProperties: false, title: 'ResumeFrame' },
);
export const PingFrameSchema = Type.Object({ type: Type.Literal('ping'), ref: Ref }, { additionalProperties: false });
export const TypingFrameSchema = Type.Object(
  { type: Type.Literal('typing'), ref: Ref, conversationId: IdSchema },
  { additionalProperties: false },
);
export const ReadFrameSchema = Type.Object(
  { type: Type.Literal('read'), ref: Ref, conversationId: IdSchema, messageId: Type.Optional(IdSchema) },
  { additionalProperties: false },
);
export const SendFrameSchema = Type.Object(
  {
    type: Type.Literal('send'),
    ref: Ref,
    conversationId: IdSchema,
    message: SendMessageRequestSchema,
    idempotencyKey: Type.Optional(IdempotencyKeySchema),
  },
  { additionalProperties: false },
);
export const SignalFrameSchema = Type.Object(
  { type: Type.Literal('signal'), ref: Ref, conversationId: IdSchema, to: IdSchema, data: Type.Unknown() },
  { additionalProperties: false },
);

export const ClientFrameSchema = Type.Union(
  [ResumeFrameSchema, PingFrameSchema, TypingFrameSchema, ReadFrameSchema, SendFrameSchema, SignalFrameSchema],
  { title: 'ClientFrame' },
);
export type ClientFrame = Static<typeof ClientFrameSchema>;

// Server → client frames (documented as types; the server builds them as text).

export interface HelloFrame {
  type: 'hello';
  connectionId: string;
  userId: string;
  heartbeatSeconds: number;
  /** True when the server waits for a `resume` frame before sending events (`?resume=1`). */
  awaitingResume: boolean;
}
export interface EventFrame {
  type: 'event';
  /** A ParleyEvent: `conversationId` and `seq` tell where it belongs. */
  event: ParleyEvent;
}
export interface SyncedFrame {
  type: 'synced';
  ref?: string;
  /** The last seq sent per conversation once the replay caught up: the client's new positions. */
  positions: Record<string, number>;
}
export interface GoneFrame {
  type: 'gone';
  conversationId: string;
  reason: 'not_a_member';
}
export interface TypingNotificationFrame {
  type: 'typing';
  conversationId: string;
  userId: string;
  displayName: string;
  at: string;
}
export interface AckFrame {
  type: 'ack';
  ref?: string;
  result?: unknown;
}
export interface ErrorFrame {
  type: 'error';
  ref?: string;
  error: Static<typeof ErrorBodySchema>['error'];
}
export interface PongFrame {
  type: 'pong';
  ref?: string;
}
export type ServerFrame = HelloFrame | EventFrame | SyncedFrame | GoneFrame | TypingNotificationFrame | AckFrame | ErrorFrame | PongFrame;
