import {
  CLOSE_CODES,
  REALTIME_BEARER_PREFIX,
  REALTIME_PATH,
  REALTIME_SUBPROTOCOL,
  type Me,
  type ParleyEvent,
  type ServerFrame,
  type TypingNotificationFrame,
} from '@parley/protocol';
import { sleep, type HttpPipeline } from './http-pipeline.js';
import { ParleyApiError, isParleyApiError } from './parley-api-error.js';
import { unrefTimer } from './token-credential.js';
import { loadWebSocket, type WebSocketLike } from './web-socket.js';

/**
 * The realtime connection's state: `idle` before the first use, `connecting` until the first
 * catch-up completes, `connected` while events flow live, `reconnecting` after a drop (events missed
 * meanwhile are replayed on reconnect), `closed` for good (after `close()` or a credential the server
 * keeps refusing).
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** A change of {@link ConnectionState}, as `client.on('connection', …)` reports it. */
export interface ConnectionStateChange {
  /** The new state. */
  state: ConnectionState;
  /** The state before. */
  previous: ConnectionState;
  /** Why the connection dropped or closed, when it did by failure. */
  error?: Error;
  /** The WebSocket close code, when the socket closed. */
  closeCode?: number;
  /** Reconnection attempts since the connection was last up (0 when connected). */
  attempt: number;
}

/** Someone is typing in a conversation (never stored; sent to the other members only). */
export type TypingNotification = Omit<TypingNotificationFrame, 'type'>;

/** What realtime reports to the client. */
export interface RealtimeSink {
  event(event: ParleyEvent): void;
  typing(notification: TypingNotification): void;
  state(change: ConnectionStateChange): void;
}

/** How reconnects pause: the retry backoff fields, with no limit on attempts by default. */
export interface ReconnectOptions {
  /** Delay before the first reconnect, in milliseconds (default 500). */
  initialDelayMs?: number;
  /** Factor applied to the delay after each failed attempt (default 2). */
  multiplier?: number;
  /** Longest delay between attempts, in milliseconds (default 30 000). */
  maxDelayMs?: number;
  /** Randomisation of each delay, 0 to 1 (default 0.5). */
  jitter?: number;
}

/** Options of the realtime connection. */
export interface RealtimeOptions {
  /**
   * Where to resume from: the last event seq seen per conversation (e.g. `client.realtimePositions`
   * saved by a previous session). Without it the stream starts from the moment of connecting.
   */
  positions?: Record<string, number>;
  /** Reconnect backoff. */
  reconnect?: ReconnectOptions;
}

const DEFAULT_HEARTBEAT_SECONDS = 30;

/**
 * One logical realtime stream over a series of WebSockets. Each socket resumes where the previous one
 * stopped (the last seq seen per conversation), so the stream has no gap and no duplicate.
 */
export class RealtimeSession {
  readonly #pipeline: HttpPipeline;
  readonly #sink: RealtimeSink;
  readonly #reconnect: Required<ReconnectOptions>;
  #positions: Map<string, number> | undefined;
  #state: ConnectionState = 'idle';
  #socket: WebSocketLike | undefined;
  #started: Promise<void> | undefined;
  #stopped = new AbortController();
  #attempt = 0;
  #abandon: (() => void) | undefined;

  constructor(pipeline: HttpPipeline, sink: RealtimeSink, options: RealtimeOptions = {}) {
    this.#pipeline = pipeline;
    this.#sink = sink;
    this.#reconnect = {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 500,
      multiplier: options.reconnect?.multiplier ?? 2,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000,
      jitter: options.reconnect?.jitter ?? 0.5,
    };
    if (options.positions) this.#positions = new Map(Object.entries(options.positions));
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The last event seq seen per conversation. */
  get positions(): Record<string, number> {
    return Object.fromEntries(this.#positions ?? []);
  }

  /** Connects (once) and resolves when the stream has caught up; rejects if it closes first. */
  start(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new Error('The realtime connection is closed'));
    this.#started ??= new Promise<void>((resolve, reject) => {
      void this.#run(resolve, reject);
    });
    return this.#started;
  }

  /** Closes the stream for good. */
  stop(): void {
    if (this.#state === 'closed') return;
    this.#stopped.abort();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) detachAndClose(socket, 1000, 'client closed');
    this.#abandon?.();
    this.#setState('closed', {});
  }

  /** Drops the current socket as if the network failed; the session reconnects and resumes. */
  dropConnection(): void {
    this.#socket?.close(4000, 'dropped by the client');
  }

  async #run(resolve: () => void, reject: (err: unknown) => void): Promise<void> {
    let firstSynced = false;
    let lastError: Error | undefined;
    let forceRefresh = false;
    while (!this.#stopped.signal.aborted) {
      this.#setState(firstSynced ? 'reconnecting' : 'connecting', lastError ? { error: lastError } : {});
      const outcome = await this.#connectOnce(forceRefresh, () => {
        this.#attempt = 0;
        if (!firstSynced) {
          firstSynced = true;
          resolve();
        }
        this.#setState('connected', {});
      });
      if (this.#stopped.signal.aborted) break;
      lastError = outcome.error;
      forceRefresh = outcome.closeCode === CLOSE_CODES.UNAUTHENTICATED;
      if (!outcome.synced) {
        // The socket never got going: ask over HTTP why, which also refreshes a refused token. A credential
        // the server still refuses, or a client error, will not get better by retrying.
        const fatal = outcome.fatal ? outcome.error : await this.#diagnose();
        if (fatal) {
          this.#fail(fatal);
          if (!firstSynced) reject(fatal);
          return;
        }
      }
      if (outcome.closeCode !== undefined) this.#setState('reconnecting', { closeCode: outcome.closeCode, ...(lastError ? { error: lastError } : {}) });
      this.#attempt += 1;
      const base = Math.min(this.#reconnect.maxDelayMs, this.#reconnect.initialDelayMs * this.#reconnect.multiplier ** (this.#attempt - 1));
      await sleep(base * (1 - this.#reconnect.jitter * Math.random()), this.#stopped.signal).catch(() => undefined);
    }
    if (!firstSynced) reject(new Error('The realtime connection was closed'));
  }

  /** One socket, from opening to closing. */
  async #connectOnce(forceRefresh: boolean, onSynced: () => void): Promise<{ synced: boolean; closeCode?: number; error?: Error; fatal?: boolean }> {
    let token: string;
    let WebSocketImpl;
    const credential = this.#pipeline.credential;
    try {
      if (!credential) throw new Error('Realtime needs a credential: give the client a token, an apiKey or a credential');
      WebSocketImpl = await loadWebSocket();
    } catch (err) {
      return { synced: false, error: err as Error, fatal: true };
    }
    try {
      token = (await credential.getToken({ forceRefresh, signal: this.#stopped.signal })).token;
    } catch (err) {
      return { synced: false, error: err instanceof Error ? err : new Error(String(err)) };
    }
    const url = `${this.#pipeline.baseUrl.replace(/^http/, 'ws')}${REALTIME_PATH}?resume=1`;
    return new Promise((done) => {
      let synced = false;
      let lastHeard = Date.now();
      let heartbeat: ReturnType<typeof setInterval> | undefined;
      let finished = false;
      let selfId = '';
      const socket = new WebSocketImpl(url, [REALTIME_SUBPROTOCOL, `${REALTIME_BEARER_PREFIX}${token}`]);
      this.#socket = socket;
      const finish = (result: { synced: boolean; closeCode?: number; error?: Error }) => {
        if (finished) return;
        finished = true;
        clearInterval(heartbeat);
        if (this.#socket === socket) this.#socket = undefined;
        this.#abandon = undefined;
        done(result);
      };
      this.#abandon = () => finish({ synced, error: new Error('The realtime connection was closed') });
      const send = (frame: object) => {
        try {
          socket.send(JSON.stringify(frame));
        } catch {
          // The close handler reports the failure.
        }
      };
      socket.onerror = () => undefined;
      socket.onclose = (event) => {
        const error = new Error(`The realtime connection closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`);
        finish({ synced, closeCode: event.code, error });
      };
      socket.onmessage = (message) => {
        lastHeard = Date.now();
        if (typeof message.data !== 'string') return;
        let frame: ServerFrame;
        try {
          frame = JSON.parse(message.data) as ServerFrame;
        } catch {
          return;
        }
        switch (frame.type) {
          case 'hello': {
            selfId = frame.userId;
            const seconds = frame.heartbeatSeconds > 0 ? frame.heartbeatSeconds : DEFAULT_HEARTBEAT_SECONDS;
            heartbeat = setInterval(() => {
              // A peer silent for two heartbeats is gone, even if the socket has not noticed yet.
              if (Date.now() - lastHeard > 2 * seconds * 1000 + 1000) {
                detachAndClose(socket, 4000, 'heartbeat timeout');
                finish({ synced, closeCode: CLOSE_CODES.HEARTBEAT_TIMEOUT, error: new Error('The server stopped answering heartbeats') });
              } else send({ type: 'ping' });
            }, seconds * 1000);
            unrefTimer(heartbeat);
            void this.#resumePositions().then(
              (positions) => send({ type: 'resume', positions }),
              (err: unknown) => {
                detachAndClose(socket, 4000, 'could not resume');
                finish({ synced, error: err instanceof Error ? err : new Error(String(err)) });
              },
            );
            return;
          }
          case 'event':
            return this.#onEvent(frame.event, selfId);
          case 'synced':
            for (const [conversationId, seq] of Object.entries(frame.positions)) this.#advance(conversationId, seq);
            synced = true;
            onSynced();
            return;
          case 'gone':
            this.#positions?.delete(frame.conversationId);
            return;
          case 'typing': {
            const { type: _type, ...notification } = frame;
            this.#sink.typing(notification);
            return;
          }
          default:
            return;
        }
      };
    });
  }

  /** Where to resume from; on the very first connection, each conversation's current seq (start from now). */
  async #resumePositions(): Promise<Record<string, number>> {
    if (!this.#positions) {
      const positions = new Map<string, number>();
      let cursor: string | undefined;
      do {
        const page = await this.#pipeline.send<{ items: { id: string; lastSeq: number }[]; nextCursor: string | null }>({
          method: 'GET',
          path: '/v1/conversations',
          // The server's default page size: any explicit size might exceed a server's configured maximum.
          query: cursor !== undefined ? { cursor } : {},
          repeatable: true,
          signal: this.#stopped.signal,
        });
        for (const c of page.items) positions.set(c.id, c.lastSeq);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      this.#positions ??= positions;
    }
    return Object.fromEntries(this.#positions);
  }

  #onEvent(event: ParleyEvent, selfId: string): void {
    const seen = this.#positions?.get(event.conversationId);
    if (seen !== undefined && event.seq <= seen) return;
    this.#advance(event.conversationId, event.seq);
    const leftForGood =
      event.type === 'conversation.deleted' || (event.type === 'member.removed' && event.data.member.userId === selfId);
    // A conversation one is no longer in has no position: if re-added, its replay starts from the new join.
    if (leftForGood) this.#positions?.delete(event.conversationId);
    this.#sink.event(event);
  }

  #advance(conversationId: string, seq: number): void {
    this.#positions ??= new Map();
    const seen = this.#positions.get(conversationId);
    if (seen === undefined || seq > seen) this.#positions.set(conversationId, seq);
  }

  /** After a socket failed to get going: a fatal error, or undefined to keep trying. */
  async #diagnose(): Promise<Error | undefined> {
    try {
      const me = await this.#pipeline.send<Me>({ method: 'GET', path: '/v1/me', repeatable: true, signal: this.#stopped.signal });
      if (me.scopes.includes('chat')) return undefined;
      return new ParleyApiError({ code: 'forbidden', status: 401, message: 'The realtime stream needs a credential with the "chat" scope', target: 'scopes' });
    } catch (err) {
      if (isParleyApiError(err) && (err.code === 'unauthenticated' || err.code === 'forbidden')) return err;
      return undefined;
    }
  }

  #fail(error: Error): void {
    if (this.#state === 'closed') return;
    this.#stopped.abort();
    this.#setState('closed', { error });
  }

  #setState(state: ConnectionState, extra: { error?: Error; closeCode?: number }): void {
    const previous = this.#state;
    if (previous === state && extra.closeCode === undefined) return;
    if (previous === 'closed') return;
    this.#state = state;
    this.#sink.state({ state, previous, attempt: this.#attempt, ...extra });
  }
}

function detachAndClose(socket: WebSocketLike, code: number, reason: string): void {
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = () => undefined;
  try {
    const terminate = (socket as { terminate?: () => void }).terminate;
    if (typeof terminate === 'function') terminate.call(socket);
    else socket.close(code, reason);
  } catch {
    // Already closed.
  }
}

