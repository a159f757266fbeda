import type { EventRecord } from '../domain/index.js';

/** Reads committed events with seq in (afterSeq, uptoSeq], unfiltered, oldest first. */
export type FetchEvents = (afterSeq: number, uptoSeq: number | undefined) => Promise<EventRecord[]>;

/**
 * One conversation's events, put back in seq order. The bus may deliver out of order (two processes
 * committing one after the other) or not at all (a Redis hiccup); a gap is filled from the store, where
 * every event below a published one is already committed (seqs are taken under a row lock that is held
 * until commit). Delivers each seq exactly once, in order.
 */
export class ConversationFeed {
  #lastSeq: number;
  readonly #pending = new Map<number, EventRecord>();
  #filling = false;
  #closed = false;

  constructor(
    baselineSeq: number,
    private readonly fetch: FetchEvents,
    private readonly deliver: (event: EventRecord) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.#lastSeq = baselineSeq;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  offer(event: EventRecord): void {
    if (this.#closed || event.seq <= this.#lastSeq) return;
    if (event.seq === this.#lastSeq + 1 && !this.#filling) {
      this.#emit(event);
      this.#drain();
      return;
    }
    this.#pending.set(event.seq, event);
    if (!this.#filling) void this.#fill();
  }

  /** Fetches whatever committed after the last delivered seq (a new feed catching up with its baseline). */
  catchUp(): void {
    if (!this.#filling) void this.#fill(true);
  }

  close(): void {
    this.#closed = true;
    this.#pending.clear();
  }

  #emit(event: EventRecord): void {
    this.#lastSeq = event.seq;
    try {
      this.deliver(event);
    } catch (err) {
      this.onError(err);
    }
  }

  #drain(): void {
    for (let next = this.#pending.get(this.#lastSeq + 1); next; next = this.#pending.get(this.#lastSeq + 1)) {
      this.#pending.delete(next.seq);
      this.#emit(next);
    }
    for (const seq of this.#pending.keys()) if (seq <= this.#lastSeq) this.#pending.delete(seq);
  }

  async #fill(toEnd = false): Promise<void> {
    this.#filling = true;
    try {
      for (;;) {
        if (this.#closed) return;
        this.#drain();
        const waiting = [...this.#pending.keys()];
        if (waiting.length === 0 && !toEnd) return;
        const upto = waiting.length === 0 ? undefined : Math.min(...waiting) - 1;
        const rows = await this.fetch(this.#lastSeq, upto);
        for (const row of rows) if (row.seq > this.#lastSeq) this.#emit(row);
        if (toEnd && rows.length === 0) toEnd = false;
        if (rows.length === 0 && upto !== undefined && this.#lastSeq < upto) {
          // The store has nothing there (the conversation was deleted under us): skip rather than stall.
          this.#lastSeq = upto;
        }
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.#filling = false;
      this.#drain();
    }
  }
}
