import type { Kysely, Selectable } from 'kysely';
import type { DeliveryStatus, ParleyEventType } from '@parley/protocol';
import type { ConversationId, DeliveryId, DeliveryRecord, EventId, UserId, WebhookRecord } from '../../domain/index.js';
import type { PageRequest, WebhookStore, WebhookSubscriber } from '../store.js';
import type { Guard } from './guard.js';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from './schema.js';

function webhookFromRow(row: Selectable<WebhooksTable>): WebhookRecord {
  return {
    userId: row.user_id as UserId,
    url: row.url,
    secret: row.secret,
    events: row.events === null ? null : (JSON.parse(row.events) as ParleyEventType[]),
    active: Number(row.active) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function deliveryFromRow(row: Selectable<WebhookDeliveriesTable>): DeliveryRecord {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: row.id as DeliveryId,
    userId: row.user_id as UserId,
    conversationId: row.conversation_id as ConversationId,
    eventId: row.event_id as EventId,
    eventType: row.event_type as ParleyEventType,
    seq: Number(row.seq),
    body: row.body,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: n(row.next_attempt_at),
    lastStatus: n(row.last_status),
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    deliveredAt: n(row.delivered_at),
  };
}

export class KyselyWebhookStore implements WebhookStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  async put(w: WebhookRecord): Promise<void> {
    const row = {
      user_id: w.userId,
      url: w.url,
      secret: w.secret,
      events: w.events === null ? null : JSON.stringify(w.events),
      active: w.active ? 1 : 0,
      created_at: w.createdAt,
      updated_at: w.updatedAt,
    };
    await this.db
      .insertInto('webhooks')
      .values(row)
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({ url: row.url, secret: row.secret, events: row.events, active: row.active, updated_at: row.updated_at }),
      )
      .execute();
  }

  async get(userId: UserId): Promise<WebhookRecord | undefined> {
    const row = await this.db.selectFrom('webhooks').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row && webhookFromRow(row);
  }

  async delete(userId: UserId): Promise<boolean> {
    const r = await this.db.deleteFrom('webhooks').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async listActive(): Promise<WebhookRecord[]> {
    return (await this.db.selectFrom('webhooks').selectAll().where('active', '=', 1).orderBy('user_id').execute()).map(webhookFromRow);
  }

  async subscribersOf(conversationId: ConversationId): Promise<WebhookSubscriber[]> {
    const rows = await this.db
      .selectFrom('members as m')
      .innerJoin('webhooks as w', 'w.user_id', 'm.user_id')
      .leftJoin('webhook_cursors as c', (j) => j.onRef('c.user_id', '=', 'm.user_id').onRef('c.conversation_id', '=', 'm.conversation_id'))
      .select(['m.user_id', 'm.history_from', 'm.joined_at', 'c.last_seq', 'w.events'])
      .where('m.conversation_id', '=', conversationId)
      .where('w.active', '=', 1)
      .execute();
    return rows.map((r) => ({
      userId: r.user_id as UserId,
      historyFrom: r.history_from === null ? null : Number(r.history_from),
      joinedAt: Number(r.joined_at),
      cursor: r.last_seq === null ? null : Number(r.last_seq),
      events: r.events === null ? null : (JSON.parse(r.events) as ParleyEventType[]),
    }));
  }

  async enqueue(userId: UserId, conversationId: ConversationId, deliveries: readonly DeliveryRecord[], cursor: number): Promise<void> {
    for (const d of deliveries) {
      await this.guard('webhook_deliveries.id', () =>
        this.db
          .insertInto('webhook_deliveries')
          .values({
            id: d.id,
            user_id: d.userId,
            conversation_id: d.conversationId,
            event_id: d.eventId,
            event_type: d.eventType,
            seq: d.seq,
            body: d.body,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.nextAttemptAt,
            lease_until: null,
            last_status: d.lastStatus,
            last_error: d.lastError,
            created_at: d.createdAt,
            delivered_at: d.deliveredAt,
          })
          .onConflict((oc) => oc.columns(['user_id', 'event_id']).doNothing())
          .execute(),
      );
    }
    // The cursor only moves forward: two processes queueing the same events race harmlessly.
    await this.db
      .insertInto('webhook_cursors')
      .values({ user_id: userId, conversation_id: conversationId, last_seq: cursor })
      .onConflict((oc) =>
        oc
          .columns(['user_id', 'conversation_id'])
          .doUpdateSet({ last_seq: cursor })
          .where('webhook_cursors.last_seq', '<', cursor),
      )
      .execute();
  }

  async claimDue(now: number, leaseUntil: number, limit: number): Promise<DeliveryRecord[]> {
    const candidates = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at')
      .orderBy('created_at')
      .orderBy('seq')
      .limit(limit)
      .execute();
    const claimed: DeliveryRecord[] = [];
    for (const row of candidates) {
      // A conditional update is the claim: of several processes only one changes the row.
      const r = await this.db
        .updateTable('webhook_deliveries')
        .set({ lease_until: leaseUntil })
        .where('id', '=', row.id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) claimed.push(deliveryFromRow(row));
    }
    return claimed;
  }

  async recordAttempt(
    id: DeliveryId,
    o: Pick<DeliveryRecord, 'status' | 'attempts' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'deliveredAt'>,
  ): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: o.status,
        attempts: o.attempts,
        next_attempt_at: o.nextAttemptAt,
        last_status: o.lastStatus,
        last_error: o.lastError,
        delivered_at: o.deliveredAt,
        lease_until: null,
      })
      .where('id', '=', id)
      .execute();
  }

  async getDelivery(userId: UserId, id: DeliveryId): Promise<DeliveryRecord | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return row && deliveryFromRow(row);
  }

  async listDeliveries(filter: { userId?: UserId; status?: DeliveryStatus }, page: PageRequest<DeliveryId>): Promise<DeliveryRecord[]> {
    let q = this.db.selectFrom('webhook_deliveries').selectAll();
    if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (page.after !== undefined) q = q.where('id', '<', page.after);
    return (await q.orderBy('id', 'desc').limit(page.limit).execute()).map(deliveryFromRow);
  }
}
