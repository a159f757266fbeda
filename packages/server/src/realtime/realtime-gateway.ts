import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  CLOSE_CODES,
  ParleyError,
  REALTIME_BEARER_PREFIX,
  REALTIME_PATH,
  REALTIME_SUBPROTOCOL,
  isParleyError,
  type ClientFrame,
  type Limits,
  type Member,
} from '@parley/protocol';
import type { Bus, BusMessage } from '../bus/index.js';
import type { ConversationId, EventRecord, MessageId, UserId } from '../domain/index.js';
import type { Authenticated, Services } from '../services/index.js';
import { eventJson, visibilityOf } from '../services/index.js';
import type { Store } from '../store/index.js';
import { frameRef, parseClientFrame } from './client-frames.js';
import { WireFrame } from './wire-frame.js';
import { ConversationFeed } from './conversation-feed.js';
import { RealtimeConnection, type Subscription } from './realtime-connection.js';

export interface RealtimeGatewayOptions {
  services: Services;
  store: Store;
  bus: Bus;
  limits: Limits;
  clock: () => number;
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

const HTTP_REASONS: Record<number, string> = { 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests', 400: 'Bad Request' };
const REPLAY_PAGE = 500;
const FEED_FETCH_LIMIT = 1000;
// Consecutive malformed frames tolerated before the connection is closed.
const MAX_BAD_FRAMES = 10;

/**
 * The WebSocket gateway. Every bus message goes through it once: events into their conversation's
 * ordered feed, then out to the connections that follow that conversation, as one frame built once.
 */
export class RealtimeGateway {
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<RealtimeConnection>();
  readonly #byUser = new Map<UserId, Set<RealtimeConnection>>();
  // Each follower with its subscription (the object in its `subs`): a delivery needs both, found at once.
  readonly #followers = new Map<ConversationId, Map<RealtimeConnection, Subscription>>();
  readonly #feeds = new Map<ConversationId, ConversationFeed>();
  // Connections whose memberships are still loading: they hear every feed's output meanwhile.
  readonly #starting = new Set<{ conn: RealtimeConnection; heard: EventRecord[] }>();
  readonly #unsubscribe: () => void;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(private readonly options: RealtimeGatewayOptions) {
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.limits.maxBodyBytes,
      // Off: events are framed once for all their recipients (WireFrame), which a compressed frame cannot be.
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(REALTIME_SUBPROTOCOL) ? REALTIME_SUBPROTOCOL : false),
    });
    this.#unsubscribe = options.bus.subscribe((message) => this.#onBus(message));
    this.#heartbeat = setInterval(() => this.#beat(), options.limits.heartbeatSeconds * 1000);
    this.#heartbeat.unref();
  }

  /** Connections whose sockets are still there, closing ones included (for tests and metrics). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Connections that are not closing. */
  get liveConnectionCount(): number {
    let n = 0;
    for (const conn of this.#connections) if (conn.state !== 'closed') n += 1;
    return n;
  }

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#onUpgrade(request, socket, head).catch((err: unknown) => {
        this.options.log.error({ err }, 'realtime upgrade failed');
        socket.destroy();
      });
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#unsubscribe();
    for (const conn of this.#connections) conn.close(CLOSE_CODES.SERVER_SHUTDOWN, 'server shutting down');
    for (const feed of this.#feeds.values()) feed.close();
    this.#feeds.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  // ---- connecting ----------------------------------------------------------------------------------

  async #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== REALTIME_PATH) return refuse(socket, 404, new ParleyError('not_found', 'No such endpoint'));
    let auth: Authenticated;
    try {
      auth = await this.options.services.identity.authenticate(credentialOf(request));
    } catch (err) {
      return refuse(socket, 401, isParleyError(err) ? err : new ParleyError('unauthenticated', 'Not authenticated'));
    }
    if (!auth.actor.scopes.includes('chat')) {
      return refuse(socket, 401, new ParleyError('unauthenticated', 'The realtime stream needs a credential with the "chat" scope'));
    }
    const open = this.#byUser.get(auth.actor.id)?.size ?? 0;
    if (open >= this.options.limits.maxConnectionsPerUser) {
      return refuse(socket, 429, new ParleyError('rate_limited', `At most ${this.options.limits.maxConnectionsPerUser} connections per user`));
    }
    const awaitResume = url.searchParams.get('resume') === '1' || url.searchParams.get('resume') === 'true';
    this.#wss.handleUpgrade(request, socket, head, (ws) => void this.#onConnection(ws, auth, awaitResume));
  }

  async #onConnection(ws: WebSocket, auth: Authenticated, awaitResume: boolean): Promise<void> {
    const conn = new RealtimeConnection(ws, auth, awaitResume, this.options.limits.maxSocketBufferBytes);
    this.#connections.add(conn);
    let users = this.#byUser.get(conn.userId);
    if (!users) this.#byUser.set(conn.userId, (users = new Set()));
    users.add(conn);
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => void this.#onFrame(conn, data, isBinary));
    ws.on('close', () => this.#forget(conn));
    ws.on('error', () => this.#forget(conn));
    if (auth.expiresAt !== undefined) conn.expireAt(auth.expiresAt, this.options.clock());

    // Hear every feed while the memberships load, so nothing committed meanwhile slips between.
    const starting = { conn, heard: [] as EventRecord[] };
    this.#starting.add(starting);
    try {
      const memberships = await this.options.store.members.listMemberships(conn.userId);
      for (const m of memberships) {
        this.#follow(conn, m.conversationId, { historyFrom: m.historyFrom, joinedAt: m.joinedAt, sent: m.lastSeq }, m.lastSeq);
      }
    } catch (err) {
      this.options.log.error({ err }, 'loading memberships failed');
      conn.close(1011, 'internal error');
      return;
    } finally {
      this.#starting.delete(starting);
    }
    conn.setState(awaitResume ? 'awaiting-resume' : 'replaying');
    for (const event of starting.heard) conn.offer(event, eventFrame(event));
    conn.send(
      JSON.stringify({
        type: 'hello',
        connectionId: conn.id,
        userId: conn.userId,
        heartbeatSeconds: this.options.limits.heartbeatSeconds,
        awaitingResume: awaitResume,
      }),
    );
    if (!awaitResume) conn.goLive();
  }

  #forget(conn: RealtimeConnection): void {
    if (!this.#connections.delete(conn)) return;
    conn.markClosed();
    const users = this.#byUser.get(conn.userId);
    users?.delete(conn);
    if (users?.size === 0) this.#byUser.delete(conn.userId);
    for (const conversationId of conn.subs.keys()) this.#unfollow(conn, conversationId);
  }

  // ---- following conversations ---------------------------------------------------------------------

  /** Makes `conn` follow a conversation, creating its feed (at `baselineSeq`) if this process has none. */
  #follow(conn: RealtimeConnection, conversationId: ConversationId, sub: Subscription, baselineSeq: number): void {
    conn.subs.set(conversationId, sub);
    let followers = this.#followers.get(conversationId);
    if (!followers) this.#followers.set(conversationId, (followers = new Map()));
    followers.set(conn, sub);
    if (!this.#feeds.has(conversationId)) {
      const feed = this.#newFeed(conversationId, baselineSeq);
      // Whatever committed between the baseline read and now comes from the store.
      feed.catchUp();
    }
  }

  #unfollow(conn: RealtimeConnection, conversationId: ConversationId): void {
    conn.subs.delete(conversationId);
    const followers = this.#followers.get(conversationId);
    followers?.delete(conn);
    if (followers && followers.size === 0) {
      this.#followers.delete(conversationId);
      this.#feeds.get(conversationId)?.close();
      this.#feeds.delete(conversationId);
    }
  }

  #newFeed(conversationId: ConversationId, baselineSeq: number): ConversationFeed {
    const feed = new ConversationFeed(
      baselineSeq,
      (afterSeq, uptoSeq) =>
        this.options.store.events.listAfter(conversationId, {
          afterSeq,
          limit: FEED_FETCH_LIMIT,
          viewer: null,
          ...(uptoSeq !== undefined ? { uptoSeq } : {}),
        }),
      (event) => this.#fanOut(event),
      (err) => this.options.log.error({ err, conversationId }, 'realtime feed failed'),
    );
    this.#feeds.set(conversationId, feed);
    return feed;
  }

  // ---- the bus -------------------------------------------------------------------------------------

  #onBus(message: BusMessage): void {
    switch (message.kind) {
      case 'event':
        return this.#onEvent(message.event);
      case 'typing': {
        const followers = this.#followers.get(message.conversationId);
        if (!followers) return;
        const frame = JSON.stringify({
          type: 'typing',
          conversationId: message.conversationId,
          userId: message.userId,
          displayName: message.displayName,
          at: new Date(message.at).toISOString(),
        });
        for (const conn of followers.keys()) if (conn.userId !== message.userId && conn.state === 'live') conn.send(frame);
        return;
      }
      case 'session':
        for (const conn of this.#byUser.get(message.userId) ?? []) {
          if (message.reason !== 'revoked' || conn.auth.credential === 'token') {
            conn.close(CLOSE_CODES.UNAUTHENTICATED, `credential ${message.reason}`);
          }
        }
    }
  }

  #onEvent(event: EventRecord): void {
    let feed = this.#feeds.get(event.conversationId);
    if (!feed) {
      // No one here follows the conversation, unless this event adds someone connected here.
      const added = event.type === 'member.added' ? memberOf(event) : undefined;
      if (!added || !this.#byUser.has(added.userId as UserId)) return;
      feed = this.#newFeed(event.conversationId, event.seq - 1);
      feed.catchUp();
    }
    feed.offer(event);
  }

  /** One event, in order, to every connection that follows its conversation (and joins/leaves on the way). */
  #fanOut(event: EventRecord): void {
    const frame = eventFrame(event);
    for (const s of this.#starting) s.heard.push(event);
    let member: Member | undefined;
    if (event.type === 'member.added' || event.type === 'member.removed') member = memberOf(event);
    if (event.type === 'member.added' && member) {
      for (const conn of this.#byUser.get(member.userId as UserId) ?? []) {
        if (conn.subs.has(event.conversationId)) continue;
        const historyFrom = member.historyFrom === null ? null : Date.parse(member.historyFrom);
        this.#follow(conn, event.conversationId, { historyFrom, joinedAt: event.createdAt, sent: event.seq - 1 }, event.seq);
      }
    }
    const followers = this.#followers.get(event.conversationId);
    if (followers) for (const [conn, sub] of followers) conn.offer(event, frame, sub);
    if (event.type === 'member.removed' && member) {
      for (const conn of this.#byUser.get(member.userId as UserId) ?? []) this.#unfollow(conn, event.conversationId);
    } else if (event.type === 'conversation.deleted' && followers) {
      for (const conn of [...followers.keys()]) this.#unfollow(conn, event.conversationId);
    }
    if (!this.#followers.has(event.conversationId)) {
      this.#feeds.get(event.conversationId)?.close();
      this.#feeds.delete(event.conversationId);
    }
  }

  // ---- heartbeats ----------------------------------------------------------------------------------

  #beat(): void {
    for (const conn of this.#connections) {
      if (!conn.alive) {
        conn.close(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'no heartbeat');
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        conn.ws.terminate();
      }
    }
  }

  // ---- client frames -------------------------------------------------------------------------------

  async #onFrame(conn: RealtimeConnection, data: RawData, isBinary: boolean): Promise<void> {
    conn.alive = true;
    if (conn.state === 'closed') return;
    const text = isBinary ? '' : data.toString();
    let frame: ClientFrame;
    try {
      if (isBinary) throw new ParleyError('bad_request', 'Frames are JSON text, not binary', 'frame');
      frame = parseClientFrame(text);
      conn.badFrames = 0;
    } catch (err) {
      conn.badFrames += 1;
      this.#sendError(conn, frameRef(text), err);
      if (conn.badFrames >= MAX_BAD_FRAMES) conn.close(CLOSE_CODES.PROTOCOL_ERROR, 'too many malformed frames');
      return;
    }
    try {
      const result = await this.#handle(conn, frame);
      if (result !== undefined) conn.send(result);
    } catch (err) {
      this.#sendError(conn, frame.ref, err);
    }
  }

  async #handle(conn: RealtimeConnection, frame: ClientFrame): Promise<string | undefined> {
    const actor = conn.auth.actor;
    const { services } = this.options;
    const ack = (result: unknown) => JSON.stringify({ type: 'ack', ...(frame.ref !== undefined ? { ref: frame.ref } : {}), result });
    switch (frame.type) {
      case 'ping':
        return JSON.stringify({ type: 'pong', ...(frame.ref !== undefined ? { ref: frame.ref } : {}) });
      case 'resume':
        await this.#resume(conn, frame.positions ?? {}, frame.ref);
        return undefined;
      case 'typing':
        return ack(await services.realtime.typing(actor, frame.conversationId as ConversationId));
      case 'read':
        return ack(
          await services.realtime.markRead(actor, frame.conversationId as ConversationId, {
            ...(frame.messageId !== undefined ? { messageId: frame.messageId as MessageId } : {}),
          }),
        );
      case 'send': {
        const sent = await services.messages.send(actor, frame.conversationId as ConversationId, frame.message, frame.idempotencyKey);
        return ack(sent.message);
      }
      case 'signal':
        return ack(await services.realtime.signal(actor, frame.conversationId as ConversationId, { to: frame.to, data: frame.data }));
    }
  }

  #sendError(conn: RealtimeConnection, ref: string | undefined, err: unknown): void {
    const error = isParleyError(err) ? err : new ParleyError('internal', 'Internal server error');
    if (error.code === 'internal') this.options.log.error({ err }, 'realtime frame failed');
    conn.send(JSON.stringify({ type: 'error', ...(ref !== undefined ? { ref } : {}), ...error.toBody() }));
  }

  // ---- resume --------------------------------------------------------------------------------------

  /**
   * Replays, per followed conversation, what the client has not seen: after its position, or from when
   * the user joined for conversations it did not name. Live events queue meanwhile and follow in order.
   */
  async #resume(conn: RealtimeConnection, positions: Record<string, number>, ref: string | undefined): Promise<void> {
    if (conn.state !== 'awaiting-resume') {
      throw new ParleyError('conflict', 'Resume once, right after connecting with ?resume=1', 'type');
    }
    conn.setState('replaying');
    for (const conversationId of Object.keys(positions)) {
      if (!conn.subs.has(conversationId as ConversationId)) {
        conn.send(JSON.stringify({ type: 'gone', conversationId, reason: 'not_a_member' }));
      }
    }
    for (const [conversationId, sub] of conn.subs) {
      const position = positions[conversationId];
      sub.sent = position ?? 0;
      const viewer = visibilityOf({ userId: conn.userId, historyFrom: sub.historyFrom });
      for (;;) {
        const rows = await this.options.store.events.listAfter(conversationId, {
          afterSeq: sub.sent,
          limit: REPLAY_PAGE,
          viewer,
          ...(position === undefined ? { sinceTime: sub.joinedAt } : {}),
        });
        for (const event of rows) {
          sub.sent = Math.max(sub.sent, event.seq);
          conn.send(eventFrame(event));
        }
        if (rows.length < REPLAY_PAGE || !(await conn.drained())) break;
      }
      if (!conn.isOpen) return;
    }
    conn.goLive();
    const caughtUp = Object.fromEntries([...conn.subs].map(([id, s]) => [id, s.sent]));
    conn.send(JSON.stringify({ type: 'synced', ...(ref !== undefined ? { ref } : {}), positions: caughtUp }));
  }
}

/** An event's frame, encoded and framed once for all its recipients. */
function eventFrame(event: EventRecord): WireFrame {
  return new WireFrame(`{"type":"event","event":${eventJson(event)}}`);
}

function memberOf(event: EventRecord): Member | undefined {
  try {
    return (JSON.parse(event.data) as { member?: Member }).member;
  } catch {
    return undefined;
  }
}

/** The credential: the Authorization header, or the `parley.bearer.<credential>` subprotocol browsers can send. */
function credentialOf(request: IncomingMessage): string | undefined {
  if (request.headers.authorization) return request.headers.authorization;
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const bearer = offered.find((p) => p.startsWith(REALTIME_BEARER_PREFIX));
  return bearer === undefined ? undefined : `Bearer ${bearer.slice(REALTIME_BEARER_PREFIX.length)}`;
}

/** Answers a refused upgrade with a plain HTTP response carrying the standard error body. */
function refuse(socket: Duplex, status: number, err: ParleyError): void {
  const body = JSON.stringify(err.toBody());
  socket.end(
    `HTTP/1.1 ${status} ${HTTP_REASONS[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
