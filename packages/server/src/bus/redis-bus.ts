import { Redis } from 'ioredis';
import type { Bus, BusHandler, BusMessage } from './bus.js';

export interface RedisBusOptions {
  url: string;
  /** Channel name; processes sharing one name share one bus. */
  channel?: string;
  onError?: (err: unknown) => void;
}

/**
 * The scale-out bus: Redis pub/sub between every server process. A process also hears its own
 * messages back through Redis, so every process sees one stream in one order.
 */
export class RedisBus implements Bus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #handlers = new Set<BusHandler>();
  readonly #onError: (err: unknown) => void;
  readonly #ready: Promise<void>;

  constructor(options: RedisBusOptions) {
    this.#channel = options.channel ?? 'parley:bus';
    this.#onError = options.onError ?? (() => {});
    // Commands queue while reconnecting; a publish during an outage is delivered late rather than lost.
    this.#pub = new Redis(options.url, { lazyConnect: false, maxRetriesPerRequest: null });
    this.#sub = new Redis(options.url, { lazyConnect: false, maxRetriesPerRequest: null });
    this.#pub.on('error', this.#onError);
    this.#sub.on('error', this.#onError);
    this.#sub.on('message', (channel: string, raw: string) => {
      if (channel !== this.#channel) return;
      let message: BusMessage;
      try {
        message = JSON.parse(raw) as BusMessage;
      } catch (err) {
        this.#onError(err);
        return;
      }
      for (const handler of this.#handlers) {
        try {
          handler(message);
        } catch (err) {
          this.#onError(err);
        }
      }
    });
    this.#ready = this.#sub.subscribe(this.#channel).then(() => undefined);
    this.#ready.catch(this.#onError);
  }

  publish(message: BusMessage): void {
    this.#pub.publish(this.#channel, JSON.stringify(message)).catch(this.#onError);
  }

  subscribe(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    await Promise.allSettled([this.#sub.quit(), this.#pub.quit()]);
  }
}
