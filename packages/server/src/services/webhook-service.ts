import type { ListDeliveriesQuery, Page, PutWebhookRequest, PutWebhookResult, Webhook, WebhookDelivery } from '@parley/protocol';
import {
  actsAsAdmin,
  badRequest,
  conflict,
  forbidden,
  newSecret,
  notFound,
  pageSize,
  type Actor,
  type DeliveryId,
  type DeliveryRecord,
  type UserId,
  type WebhookRecord,
} from '../domain/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { iso } from './render.js';
import type { ServiceContext } from './service-context.js';

function renderWebhook(w: WebhookRecord): Webhook {
  return { userId: w.userId, url: w.url, events: w.events, active: w.active, createdAt: iso(w.createdAt), updatedAt: iso(w.updatedAt) };
}

function renderDelivery(d: DeliveryRecord): WebhookDelivery {
  return {
    id: d.id,
    userId: d.userId,
    eventId: d.eventId,
    eventType: d.eventType,
    conversationId: d.conversationId,
    seq: d.seq,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' && d.nextAttemptAt !== null ? iso(d.nextAttemptAt) : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: iso(d.createdAt),
    deliveredAt: d.deliveredAt === null ? null : iso(d.deliveredAt),
  };
}

const isDeliveryCursor = (v: unknown): v is { d: string } => typeof v === 'object' && v !== null && typeof (v as { d?: unknown }).d === 'string';

/** A bot's outgoing webhook: its configuration and its delivery log. Delivery itself is the WebhookDispatcher's. */
export class WebhookService {
  constructor(
    private readonly ctx: ServiceContext,
    /** Tells the dispatcher: `queued` when a delivery was queued by hand, `webhooks` when a webhook changed. */
    private readonly notify: (what: 'queued' | 'webhooks') => void = () => {},
  ) {}

  /**
   * Creates or replaces the webhook of a bot (the bot itself or an admin). A new webhook gets a signing
   * secret, returned once; it receives events from now on, not the history of the bot's conversations.
   */
  async put(actor: Actor, userId: UserId, req: PutWebhookRequest): Promise<PutWebhookResult> {
    await this.#requireBot(actor, userId);
    checkUrl(req.url);
    const now = this.ctx.clock();
    const existing = await this.ctx.store.webhooks.get(userId);
    const secret = existing && !req.rotateSecret ? existing.secret : newSecret('whsec', 32);
    const webhook: WebhookRecord = {
      userId,
      url: req.url,
      secret,
      events: req.events === undefined ? (existing?.events ?? null) : req.events,
      active: req.active ?? true,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await this.ctx.store.transaction(async (tx) => {
      await tx.webhooks.put(webhook);
      // Start every conversation's queue at its newest event: the webhook receives what happens from now on.
      if (!existing) {
        for (const m of await tx.members.listMemberships(userId)) await tx.webhooks.enqueue(userId, m.conversationId, [], m.lastSeq);
      }
    });
    this.notify('webhooks');
    return { webhook: renderWebhook(webhook), secret: existing && !req.rotateSecret ? null : secret };
  }

  async get(actor: Actor, userId: UserId): Promise<Webhook> {
    await this.#requireBot(actor, userId);
    const webhook = await this.ctx.store.webhooks.get(userId);
    if (!webhook) throw notFound('Webhook', 'userId');
    return renderWebhook(webhook);
  }

  /** Removes the webhook; its queued deliveries stay in the log, and are dead-lettered when their turn comes. */
  async delete(actor: Actor, userId: UserId): Promise<void> {
    await this.#requireBot(actor, userId);
    if (!(await this.ctx.store.webhooks.delete(userId))) throw notFound('Webhook', 'userId');
    this.notify('webhooks');
  }

  /** The delivery log of one bot, or (admins, `userId` undefined) of every bot: newest first. */
  async listDeliveries(actor: Actor, userId: UserId | undefined, query: ListDeliveriesQuery): Promise<Page<WebhookDelivery>> {
    if (userId === undefined) {
      if (!actsAsAdmin(actor)) throw forbidden('Only admins can list every bot\'s deliveries');
    } else await this.#requireBot(actor, userId);
    const limit = pageSize(query.limit, this.ctx.limits.defaultPageSize, this.ctx.limits.maxPageSize);
    const after = query.cursor === undefined ? undefined : (decodeCursor(query.cursor, isDeliveryCursor).d as DeliveryId);
    const rows = await this.ctx.store.webhooks.listDeliveries(
      { ...(userId !== undefined ? { userId } : {}), ...(query.status !== undefined ? { status: query.status } : {}) },
      { limit: limit + 1, ...(after !== undefined ? { after } : {}) },
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items: items.map(renderDelivery), nextCursor: rows.length > limit && last ? encodeCursor({ d: last.id }) : null };
  }

  /** Puts a dead-lettered delivery back in the queue with a fresh set of attempts. */
  async retry(actor: Actor, userId: UserId, deliveryId: DeliveryId): Promise<WebhookDelivery> {
    await this.#requireBot(actor, userId);
    const delivery = await this.ctx.store.webhooks.getDelivery(userId, deliveryId);
    if (!delivery) throw notFound('Delivery', 'deliveryId');
    if (delivery.status !== 'dead') throw conflict(`The delivery is ${delivery.status}; only dead deliveries are retried by hand`, 'deliveryId');
    const outcome = { status: 'pending', attempts: 0, nextAttemptAt: this.ctx.clock(), lastStatus: delivery.lastStatus, lastError: delivery.lastError, deliveredAt: null } as const;
    await this.ctx.store.webhooks.recordAttempt(deliveryId, outcome);
    this.notify('queued');
    return renderDelivery({ ...delivery, ...outcome });
  }

  async #requireBot(actor: Actor, userId: UserId): Promise<void> {
    if (userId !== actor.id && !actsAsAdmin(actor)) throw forbidden('Only the bot itself or an admin can manage its webhook', 'userId');
    const user = await this.ctx.store.users.get(userId);
    if (!user) throw notFound('User', 'userId');
    if (user.kind !== 'bot') throw conflict('Only bots have webhooks', 'userId');
  }
}

function checkUrl(raw: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest('The webhook URL is not a valid URL', 'url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('The webhook URL must be http:// or https://', 'url');
}
