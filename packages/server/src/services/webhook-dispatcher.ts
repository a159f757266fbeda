import { createHmac } from 'node:crypto';
import { WEBHOOK_HEADERS } from '@parley/protocol';
import { newId, nextAttemptAt, type ConversationId, type DeliveryRecord, type RetrySchedule, type UserId } from '../domain/index.js';
import type { BusMessage } from '../bus/index.js';
import type { WebhookSubscriber } from '../store/index.js';
import { eventJson } from './render.js';
import type { ServiceContext } from './service-context.js';

export interface WebhookDispatcherOptions {
  schedule: RetrySchedule;
  timeoutMs: number;
  /** Deliveries in flight at once (per process). */
  concurrency?: number;
  /** How often the queue is polled for deliveries other processes queued or retries that came due. */
  pollMs?: number;
  onError: (err: unknown, what: string) => void;
  /** Replaces Math.random for the retry jitter (tests). */
  random?: () => number;
  /** How often the set of bots with webhooks is re-read, to see webhooks other processes set (default 5 s). */
  refreshMs?: number;
}

const QUEUE_PAGE = 500;
const LEASE_MARGIN_MS = 30_000;
const MAX_ERROR_LENGTH = 500;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<body>")>`, the value of the Parley-Signature header. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Delivers the events of bots' conversations to their webhooks, at least once, never in the way of a send.
 *
 * Queueing reads the event log, not the bus: the bus only says "this conversation changed", and each bot's
 * per-conversation cursor says what it already has queued. So an event published while this process was
 * down, or lost by Redis, is still queued by the next look at that conversation (at start every bot's
 * conversations are looked at). Deliveries are rows: they survive restarts, are leased so that one process
 * attempts each, retried with exponential backoff, and dead-lettered after the last attempt.
 */
export class WebhookDispatcher {
  readonly #dirty = new Set<ConversationId>();
  #syncing: Promise<void> | undefined;
  #pumping = false;
  #inFlight = 0;
  #closed = false;
  #unsubscribe: (() => void) | undefined;
  #poll: NodeJS.Timeout | undefined;
  readonly #attempts = new Set<Promise<void>>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #stop = new AbortController();
  readonly #concurrency: number;
  /** Bots with an active webhook. Without any, events cost nothing here, not even a query. */
  #webhookBots = new Set<string>();
  #refresh: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly options: WebhookDispatcherOptions,
  ) {
    this.#concurrency = options.concurrency ?? 16;
  }

  /** Subscribes to the bus, queues what was missed while no process was running, and starts delivering. */
  async start(): Promise<void> {
    this.#unsubscribe = this.ctx.bus.subscribe((m) => this.#onBus(m));
    await this.refreshWebhooks();
    this.#poll = setInterval(() => this.kick(), this.options.pollMs ?? 1000);
    this.#poll.unref();
    this.#refresh = setInterval(() => {
      this.refreshWebhooks().catch((err: unknown) => this.options.onError(err, 'reading webhooks failed'));
    }, this.options.refreshMs ?? 5000);
    this.#refresh.unref();
    this.kick();
  }

  /**
   * Re-reads which bots have active webhooks. A bot new to the set has all its conversations looked at:
   * its cursors say what is already queued, so events from before this process knew of it are not lost.
   */
  async refreshWebhooks(): Promise<void> {
    const active = new Set((await this.ctx.store.webhooks.listActive()).map((w) => w.userId as string));
    const newcomers = [...active].filter((userId) => !this.#webhookBots.has(userId));
    // Set first: events published while the conversations are listed below are then queued as they come.
    this.#webhookBots = active;
    for (const userId of newcomers) {
      for (const id of await this.ctx.store.members.listConversationIds(userId as UserId)) this.#dirty.add(id);
    }
    if (this.#dirty.size > 0) await this.#sync();
  }

  /** Looks for due deliveries now (after a retry was queued by hand, say). */
  kick(): void {
    if (!this.#closed) void this.#pump();
  }

  /** Stops queueing and delivering; requests in flight are abandoned and their deliveries put back for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stop.abort();
    this.#unsubscribe?.();
    clearInterval(this.#poll);
    clearInterval(this.#refresh);
    await this.#syncing;
    await Promise.all([...this.#attempts]);
  }

  #onBus(message: BusMessage): void {
    if (message.kind !== 'event' || this.#closed || this.#webhookBots.size === 0) return;
    this.#dirty.add(message.event.conversationId);
    void this.#sync();
  }

  // ---- queueing ------------------------------------------------------------------------------------

  /** Queues the new events of every dirty conversation; one pass at a time, later calls join it. */
  #sync(): Promise<void> {
    this.#syncing ??= this.#drainDirty().finally(() => {
      this.#syncing = undefined;
      // Marked dirty between the loop's last check and now: go again.
      if (this.#dirty.size > 0 && !this.#closed) void this.#sync();
      this.kick();
    });
    return this.#syncing;
  }

  async #drainDirty(): Promise<void> {
    await Promise.resolve();
    for (const id of this.#dirty) {
      if (this.#closed) return;
      this.#dirty.delete(id);
      try {
        await this.#queueConversation(id);
      } catch (err) {
        this.options.onError(err, 'queueing webhook deliveries failed');
      }
    }
  }

  async #queueConversation(conversationId: ConversationId): Promise<void> {
    for (const sub of await this.ctx.store.webhooks.subscribersOf(conversationId)) await this.#queueFor(conversationId, sub);
  }

  async #queueFor(conversationId: ConversationId, sub: WebhookSubscriber): Promise<void> {
    let cursor = sub.cursor;
    for (;;) {
      const events = await this.ctx.store.events.listAfter(conversationId, {
        afterSeq: cursor ?? 0,
        limit: QUEUE_PAGE,
        viewer: { userId: sub.userId, historyFrom: sub.historyFrom },
        // Only since the bot (last) joined: a bot new to the conversation starts there, as a resuming client
        // does, and one that left and came back gets nothing of the time it was away.
        sinceTime: sub.joinedAt,
      });
      const last = events.at(-1);
      if (!last) return;
      const now = this.ctx.clock();
      const deliveries: DeliveryRecord[] = events
        .filter((e) => sub.events === null || sub.events.includes(e.type))
        .map((e) => ({
          id: newId('delivery', now),
          userId: sub.userId,
          conversationId,
          eventId: e.id,
          eventType: e.type,
          seq: e.seq,
          body: eventJson(e),
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          lastStatus: null,
          lastError: null,
          createdAt: now,
          deliveredAt: null,
        }));
      await this.ctx.store.transaction((tx) => tx.webhooks.enqueue(sub.userId, conversationId, deliveries, last.seq));
      cursor = last.seq;
      if (events.length < QUEUE_PAGE) return;
    }
  }

  // ---- delivering ----------------------------------------------------------------------------------

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#inFlight < this.#concurrency) {
        const now = this.ctx.clock();
        // Long enough for a full chain of attempts to time out one after the other.
        const lease = now + this.options.timeoutMs * this.#concurrency + LEASE_MARGIN_MS;
        const due = await this.ctx.store.webhooks.claimDue(now, lease, this.#concurrency - this.#inFlight);
        if (due.length === 0) break;
        for (const delivery of due) {
          this.#inFlight += 1;
          // One attempt at a time per bot and conversation keeps deliveries in seq order while the receiver
          // answers; a retried one may arrive after later ones (payloads carry the seq).
          const key = `${delivery.userId}/${delivery.conversationId}`;
          const attempt = (this.#chains.get(key) ?? Promise.resolve()).then(() => this.#attempt(delivery));
          this.#chains.set(key, attempt);
          this.#attempts.add(attempt);
          void attempt.finally(() => {
            this.#inFlight -= 1;
            this.#attempts.delete(attempt);
            if (this.#chains.get(key) === attempt) this.#chains.delete(key);
            this.kick();
          });
        }
      }
    } catch (err) {
      this.options.onError(err, 'claiming webhook deliveries failed');
    } finally {
      this.#pumping = false;
    }
  }

  async #attempt(d: DeliveryRecord): Promise<void> {
    if (this.#closed) return this.#release(d);
    const attempts = d.attempts + 1;
    let lastStatus: number | null = null;
    let lastError: string | null = null;
    try {
      const webhook = await this.ctx.store.webhooks.get(d.userId);
      if (!webhook || !webhook.active) {
        const why = webhook ? 'The webhook is inactive' : 'The webhook was removed';
        await this.ctx.store.webhooks.recordAttempt(d.id, { status: 'dead', attempts: d.attempts, nextAttemptAt: null, lastStatus: null, lastError: why, deliveredAt: null });
        return;
      }
      const body = `{"deliveryId":${JSON.stringify(d.id)},"botId":${JSON.stringify(d.userId)},"event":${d.body}}`;
      try {
        const res = await fetch(webhook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Parley-Webhook/1',
            [WEBHOOK_HEADERS.SIGNATURE]: signWebhook(webhook.secret, body, Math.floor(this.ctx.clock() / 1000)),
            [WEBHOOK_HEADERS.EVENT_ID]: d.eventId,
            [WEBHOOK_HEADERS.DELIVERY_ID]: d.id,
            [WEBHOOK_HEADERS.ATTEMPT]: String(attempts),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.#stop.signal]),
        });
        lastStatus = res.status;
        // The body is not needed, but reading it lets the connection be reused.
        await res.arrayBuffer().catch(() => undefined);
        if (res.status >= 200 && res.status < 300) {
          await this.ctx.store.webhooks.recordAttempt(d.id, { status: 'delivered', attempts, nextAttemptAt: null, lastStatus, lastError: null, deliveredAt: this.ctx.clock() });
          return;
        }
        lastError = `HTTP ${res.status}`;
      } catch (err) {
        if (this.#closed) return await this.#release(d);
        lastError = describeFailure(err);
      }
      const next = nextAttemptAt(this.options.schedule, attempts, this.ctx.clock(), (this.options.random ?? Math.random)());
      await this.ctx.store.webhooks.recordAttempt(d.id, {
        status: next === null ? 'dead' : 'pending',
        attempts,
        nextAttemptAt: next,
        lastStatus,
        lastError,
        deliveredAt: null,
      });
    } catch (err) {
      // The store failed: the lease runs out and another attempt follows.
      this.options.onError(err, 'recording a webhook attempt failed');
    }
  }

  /** Gives a delivery back, untried, when shutting down: the next process to start attempts it at once. */
  async #release(d: DeliveryRecord): Promise<void> {
    await this.ctx.store.webhooks.recordAttempt(d.id, {
      status: 'pending',
      attempts: d.attempts,
      nextAttemptAt: this.ctx.clock(),
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      deliveredAt: null,
    });
  }
}

function describeFailure(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const text = e.name === 'TimeoutError' ? 'Timed out' : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
  return text.slice(0, MAX_ERROR_LENGTH);
}
