import type { ParleyEvent, ParleyEvents } from '@parley/protocol';
import type { ConnectionStateChange, TypingNotification } from './realtime-session.js';

/**
 * Everything `client.on(type, handler)` can listen to: each stored event type of the protocol
 * (`message.created`, `member.added`, …), plus `typing` notifications and `connection` state changes.
 */
export type ClientEvents = ParleyEvents & {
  /** Someone else is typing. */
  typing: TypingNotification;
  /** The realtime connection changed state. */
  connection: ConnectionStateChange;
};

/** Options of `client.events()`. */
export interface EventStreamOptions {
  /** Only events of this conversation. */
  conversationId?: string;
  /** Only events of these types. */
  types?: readonly ParleyEvent['type'][];
  /** Ends the iteration. */
  signal?: AbortSignal;
}

type Handler = (payload: never) => void;

/** Hands realtime output to handlers and iterators. */
export class EventHub {
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #iterators = new Set<() => void>();

  on<K extends keyof ClientEvents>(type: K, handler: (payload: ClientEvents[K]) => void): () => void {
    let set = this.#handlers.get(type);
    if (!set) this.#handlers.set(type, (set = new Set()));
    const h = handler as Handler;
    set.add(h);
    return () => {
      set.delete(h);
    };
  }

  emit<K extends keyof ClientEvents>(type: K, payload: ClientEvents[K]): void {
    for (const handler of [...(this.#handlers.get(type) ?? [])]) {
      try {
        (handler as (p: ClientEvents[K]) => void)(payload);
      } catch (err) {
        // A throwing handler must not stop the others or the stream; surface it like an unhandled error.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  /** Every stored event, as an async iterator that buffers until read; `return()` unsubscribes. */
  events(options: EventStreamOptions, types: readonly ParleyEvent['type'][]): AsyncIterableIterator<ParleyEvent> {
    const queue: ParleyEvent[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const wanted = new Set(options.types ?? types);
    const unsubscribe = types.map((type) =>
      this.on(type, (event: ParleyEvent) => {
        if (!wanted.has(event.type)) return;
        if (options.conversationId !== undefined && event.conversationId !== options.conversationId) return;
        queue.push(event);
        wake?.();
      }),
    );
    const finish = () => {
      done = true;
      this.#iterators.delete(finish);
      for (const u of unsubscribe) u();
      wake?.();
    };
    this.#iterators.add(finish);
    options.signal?.addEventListener('abort', finish, { once: true });
    const iterator: AsyncIterableIterator<ParleyEvent> = {
      async next() {
        while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const value = queue.shift();
        return value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
      async return() {
        finish();
        queue.length = 0;
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Ends every iterator and forgets every handler. */
  clear(): void {
    for (const finish of [...this.#iterators]) finish();
    this.#handlers.clear();
  }
}
