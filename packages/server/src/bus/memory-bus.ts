import type { Bus, BusHandler, BusMessage } from './bus.js';

/** The in-process bus: synchronous fan-out to the subscribers of this process. */
export class MemoryBus implements Bus {
  readonly #handlers = new Set<BusHandler>();

  constructor(private readonly onHandlerError: (err: unknown) => void = () => {}) {}

  publish(message: BusMessage): void {
    for (const handler of this.#handlers) {
      try {
        handler(message);
      } catch (err) {
        this.onHandlerError(err);
      }
    }
  }

  subscribe(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#handlers.clear();
    return Promise.resolve();
  }
}
