import type { Message, ParleyEvent } from '@parley/protocol';
import type { ContinuablePage } from './paging.js';
import type { ConversationClient } from './conversation-client.js';
import type { ParleyClient } from './parley-client.js';

/** Options of `conversation(id).live()`. */
export interface LiveConversationOptions {
  /** How many of the newest messages to load at first (default 50). */
  initialCount?: number;
  /** Cancels the opening. */
  signal?: AbortSignal;
}

/**
 * A conversation's messages, ordered by seq, deduplicated, and kept in sync with new messages, edits
 * and deletes (tombstones) as realtime reports them; the realtime resume makes it survive reconnects
 * without gaps. It starts with the newest messages; {@link loadOlder} pages back through history.
 *
 * @example
 * ```ts
 * await using live = await client.conversation(id).live();
 * const stop = live.onChange((messages) => render(messages));
 * await live.loadOlder();
 * ```
 */
export class LiveConversation implements AsyncDisposable {
  /** The conversation's id. */
  readonly conversationId: string;
  readonly #conversation: ConversationClient;
  readonly #byId = new Map<string, Message>();
  #ordered: Message[] = [];
  readonly #listeners = new Set<(messages: readonly Message[]) => void>();
  #unsubscribe: (() => void)[] = [];
  #olderToken: string | undefined;
  #hasOlder = true;
  #closed = false;

  private constructor(conversation: ConversationClient) {
    this.#conversation = conversation;
    this.conversationId = conversation.id;
  }

  /** Use `client.conversation(id).live()`. */
  static async open(client: ParleyClient, conversation: ConversationClient, options: LiveConversationOptions = {}): Promise<LiveConversation> {
    const live = new LiveConversation(conversation);
    // Subscribe first and connect, then read the newest page: whatever happens in between arrives both
    // ways and is deduplicated, so nothing falls between the snapshot and the stream.
    const early: ParleyEvent[] = [];
    let loaded = false;
    const onEvent = (event: ParleyEvent) => {
      if (event.conversationId !== live.conversationId) return;
      if (loaded) live.#apply(event);
      else early.push(event);
    };
    for (const type of ['message.created', 'message.edited', 'message.deleted'] as const) live.#unsubscribe.push(client.on(type, onEvent));
    try {
      await client.connect({ ...(options.signal ? { signal: options.signal } : {}) });
      const first = await conversation
        .listMessages({ order: 'desc', maxPageSize: options.initialCount ?? 50, ...(options.signal ? { signal: options.signal } : {}) })
        .byPage()
        .next();
      live.#addPage(first.done ? { items: [], continuationToken: undefined } : first.value);
    } catch (err) {
      live.close();
      throw err;
    }
    loaded = true;
    for (const event of early) live.#apply(event);
    return live;
  }

  /** The messages, oldest first (tombstones included: check `deletedAt`). Replaced, not mutated, on change. */
  get messages(): readonly Message[] {
    return this.#ordered;
  }

  /** Whether older messages remain to be loaded with {@link loadOlder}. */
  get hasOlder(): boolean {
    return this.#hasOlder;
  }

  /** Calls `listener` with the new list after every change; returns its unsubscribe. */
  onChange(listener: (messages: readonly Message[]) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Loads up to `count` older messages; resolves to how many were added. */
  async loadOlder(count = 50, options: { signal?: AbortSignal } = {}): Promise<number> {
    if (!this.#hasOlder || this.#closed) return 0;
    const pages = this.#conversation
      .listMessages({ order: 'desc', ...(options.signal ? { signal: options.signal } : {}) })
      .byPage({ continuationToken: this.#olderToken, maxPageSize: count });
    const page = await pages.next();
    const before = this.#byId.size;
    this.#addPage(page.done ? { items: [], continuationToken: undefined } : page.value);
    return this.#byId.size - before;
  }

  /** Stops following the conversation. */
  close(): void {
    this.#closed = true;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#listeners.clear();
  }

  /** Same as {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #addPage(page: ContinuablePage<Message>): void {
    this.#olderToken = page.continuationToken;
    this.#hasOlder = page.continuationToken !== undefined;
    let changed = false;
    for (const m of page.items) changed = this.#upsert(m) || changed;
    if (changed) this.#publish();
  }

  #apply(event: ParleyEvent): void {
    if (this.#closed) return;
    if (event.type !== 'message.created' && event.type !== 'message.edited' && event.type !== 'message.deleted') return;
    const { message } = event.data;
    // Older than what is loaded (e.g. replayed from saved positions): loadOlder() brings it, in its current state.
    const oldest = this.#ordered[0]?.seq;
    if (!this.#byId.has(message.id) && this.#hasOlder && oldest !== undefined && message.seq < oldest) return;
    if (this.#upsert(message)) this.#publish();
  }

  /** Keeps the newest state of each message: a tombstone wins, otherwise the higher version. */
  #upsert(message: Message): boolean {
    const known = this.#byId.get(message.id);
    if (known) {
      if (known.deletedAt !== null) return false;
      if (message.deletedAt === null && message.version <= known.version) return false;
    }
    this.#byId.set(message.id, message);
    const next = known ? this.#ordered.filter((m) => m.id !== message.id) : [...this.#ordered];
    next.splice(insertionPoint(next, message.seq), 0, message);
    this.#ordered = next;
    return true;
  }

  #publish(): void {
    const snapshot = this.#ordered;
    for (const listener of [...this.#listeners]) listener(snapshot);
  }
}

function insertionPoint(messages: readonly Message[], seq: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (messages[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
