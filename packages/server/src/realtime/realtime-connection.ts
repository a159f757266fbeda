import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '@parley/protocol';
import { canSeeEvent, type ConversationId, type EventRecord, type UserId } from '../domain/index.js';
import type { Authenticated } from '../services/index.js';
import type { WireFrame } from './wire-frame.js';

/** What a connection knows of one conversation it follows. */
export interface Subscription {
  historyFrom: number | null;
  joinedAt: number;
  /** The last seq this connection has sent (or, before a resume, counts as seen). */
  sent: number;
}

type State = 'starting' | 'awaiting-resume' | 'replaying' | 'live' | 'closed';

// While a connection cannot send live events yet (starting, awaiting its resume, replaying), they queue
// here; past this many it is treated as a slow consumer.
const MAX_QUEUED_EVENTS = 10_000;
const CLOSE_GRACE_MS = 10_000;

/**
 * A text frame: a string for one connection (framed by `ws`), or a frame built once for many connections
 * (an event fanned out: see WireFrame).
 */
export type Frame = string | WireFrame;

// Frames are JSON: text frames.
const TEXT = { binary: false } as const;

interface Corkable {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
}

// Connections written to in the current turn, their sockets held corked until it ends (see
// RealtimeConnection.send); each knows whether it is here by a flag of its own, not a lookup.
let corked: RealtimeConnection[] = [];

function uncorkAll(): void {
  const connections = corked;
  corked = [];
  for (const conn of connections) conn.uncork();
}

/** The TCP socket under a `ws` WebSocket (`ws` keeps it as `_socket`), when it can be corked. */
function socketOf(ws: WebSocket): Corkable | undefined {
  const socket = (ws as unknown as { _socket?: Partial<Corkable> | null })._socket;
  return socket && typeof socket.cork === 'function' && typeof socket.uncork === 'function' && typeof socket.write === 'function'
    ? (socket as Corkable)
    : undefined;
}

/** One WebSocket client: its subscriptions, its outgoing buffer discipline, its live/replay state. */
export class RealtimeConnection {
  readonly id = randomUUID();
  readonly userId: UserId;
  readonly subs = new Map<ConversationId, Subscription>();
  alive = true;
  badFrames = 0;
  #state: State = 'starting';
  #queued: { event: EventRecord; frame: Frame }[] = [];
  #expiry: NodeJS.Timeout | undefined;
  // Looked up once: every delivery writes to it.
  readonly #socket: Corkable | undefined;
  #corked = false;

  constructor(
    readonly ws: WebSocket,
    readonly auth: Authenticated,
    readonly awaitResume: boolean,
    private readonly maxBufferBytes: number,
  ) {
    this.userId = auth.actor.id;
    this.#socket = socketOf(ws);
  }

  get state(): State {
    return this.#state;
  }

  get isOpen(): boolean {
    return this.#state !== 'closed' && this.ws.readyState === this.ws.OPEN;
  }

  /**
   * Sends a frame, or cuts the connection off when its outgoing buffer is over the bound.
   *
   * Frames sent in one turn of the event loop leave together: the socket is corked at its first frame
   * and uncorked once the turn's work is done (process.nextTick runs after the promise chains of a
   * group-committed batch have fanned out). One write system call per connection per batch instead of
   * one per frame: on loopback each write costs about as much as the rest of a delivery, and under load,
   * when batches grow, this is what keeps the cost per delivery falling. At low load a batch is one
   * message and nothing waits.
   */
  send(frame: Frame): boolean {
    if (!this.isOpen) return false;
    if (this.ws.bufferedAmount + frame.length > this.maxBufferBytes) {
      this.close(CLOSE_CODES.SLOW_CONSUMER, 'slow consumer: reconnect and resume');
      return false;
    }
    const socket = this.#socket;
    if (socket && !this.#corked) {
      socket.cork();
      this.#corked = true;
      if (corked.push(this) === 1) process.nextTick(uncorkAll);
    }
    // A built frame goes to the socket as is; `ws` writes synchronously (it does not compress), so frames
    // sent either way stay in order.
    if (typeof frame === 'string') this.ws.send(frame, TEXT);
    else if (socket) socket.write(frame.bytes);
    else this.ws.send(frame.payload, TEXT);
    return true;
  }

  /** Lets the frames this turn wrote go (see send). */
  uncork(): void {
    this.#corked = false;
    this.#socket?.uncork();
  }

  /** Waits until the outgoing buffer is below half its bound (replay pacing); false if the connection went. */
  async drained(): Promise<boolean> {
    const limit = this.maxBufferBytes / 2;
    for (let waited = 0; this.isOpen && this.ws.bufferedAmount > limit; waited += 10) {
      if (waited > 30_000) {
        this.close(CLOSE_CODES.SLOW_CONSUMER, 'slow consumer: reconnect and resume');
        return false;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.isOpen;
  }

  /** Visibility of an event to this user in a conversation it follows. */
  sees(event: EventRecord, sub: Subscription): boolean {
    return canSeeEvent({ userId: this.userId, historyFrom: sub.historyFrom }, event);
  }

  /**
   * A live event for a followed conversation: sent now, or queued until the replay is done. `sub` is
   * this connection's subscription to the event's conversation, when the caller has it at hand.
   */
  offer(event: EventRecord, frame: Frame, sub?: Subscription): void {
    if (this.#state === 'closed') return;
    if (this.#state !== 'live') {
      if (this.#queued.length >= MAX_QUEUED_EVENTS) {
        this.close(CLOSE_CODES.SLOW_CONSUMER, 'too many events while resuming: reconnect and resume');
        return;
      }
      this.#queued.push({ event, frame });
      return;
    }
    this.#deliver(event, frame, sub ?? this.subs.get(event.conversationId));
  }

  #deliver(event: EventRecord, frame: Frame, sub: Subscription | undefined): void {
    if (!sub || event.seq <= sub.sent) return;
    sub.sent = event.seq;
    if (this.sees(event, sub)) this.send(frame);
  }

  setState(state: Exclude<State, 'closed' | 'live'>): void {
    if (this.#state !== 'closed') this.#state = state;
  }

  /** Goes live: what queued meanwhile is delivered in order, without what the replay already sent. */
  goLive(): void {
    if (this.#state === 'closed') return;
    this.#state = 'live';
    const queued = this.#queued;
    this.#queued = [];
    for (const { event, frame } of queued) this.#deliver(event, frame, this.subs.get(event.conversationId));
  }

  /** Closes the socket when `at` (epoch ms) passes: a token's expiry. */
  expireAt(at: number, now: number): void {
    const delay = at - now;
    if (delay <= 0) {
      this.close(CLOSE_CODES.UNAUTHENTICATED, 'the access token expired');
      return;
    }
    // setTimeout cannot wait longer than ~24.8 days; re-arm until the real expiry.
    this.#expiry = setTimeout(() => this.expireAt(at, Date.now()), Math.min(delay, 2 ** 31 - 1));
    this.#expiry.unref();
  }

  close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#queued = [];
    clearTimeout(this.#expiry);
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
    // The close frame queues behind whatever the peer has not read yet (a slow consumer's backlog, already
    // bounded): give it time to drain and learn why, then stop waiting.
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Marks the connection closed after the socket went away by itself. */
  markClosed(): void {
    this.#state = 'closed';
    this.#queued = [];
    clearTimeout(this.#expiry);
  }
}
