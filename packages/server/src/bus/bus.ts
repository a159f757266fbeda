import type { EventRecord, UserId } from '../domain/index.js';
import type { ConversationId } from '../domain/index.js';

/** What travels on the bus: committed events, ephemeral typing, and session revocations. */
export type BusMessage =
  | { kind: 'event'; event: EventRecord }
  | { kind: 'typing'; conversationId: ConversationId; userId: UserId; displayName: string; at: number }
  | { kind: 'session'; userId: UserId; reason: 'revoked' | 'disabled' | 'deleted' };

export type BusHandler = (message: BusMessage) => void;

/**
 * Carries messages to every subscriber of every process sharing the bus. Delivery is at most once and
 * ordered per publisher; the realtime gateway restores per-conversation order and fills gaps from the
 * store, so a lost or reordered message never means a lost event.
 */
export interface Bus {
  /** Never throws back into the publisher (whose transaction has already committed). */
  publish(message: BusMessage): void;
  /** Returns the unsubscribe function. */
  subscribe(handler: BusHandler): () => void;
  /** Resolves once the bus is ready to deliver (a Redis bus has subscribed). */
  ready(): Promise<void>;
  close(): Promise<void>;
}
