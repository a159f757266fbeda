import type { ListEventsQuery } from '@parley/protocol';
import { canRead, enforce, pageSize, type Actor, type ConversationId } from '../domain/index.js';
import { loadAccess, visibilityOf } from './access.js';
import { eventJson } from './render.js';
import type { ServiceContext } from './service-context.js';

/** A page of the event log, already serialised (each event is serialised once, from its stored data). */
export interface EventPageJson {
  /** The JSON text of each event, in seq order. */
  items: string[];
  lastSeq: number;
  hasMore: boolean;
}

/** Reading a conversation's event log after a seq: what realtime resume builds on. */
export class EventService {
  constructor(private readonly ctx: ServiceContext) {}

  async listAfter(actor: Actor, conversationId: ConversationId, query: ListEventsQuery): Promise<EventPageJson> {
    const access = await loadAccess(this.ctx.store, conversationId, actor);
    enforce(canRead(actor, access.conv, access.facts), 'conversationId');
    const limit = pageSize(query.limit, this.ctx.limits.maxPageSize, this.ctx.limits.maxPageSize);
    const rows = await this.ctx.store.events.listAfter(conversationId, {
      afterSeq: query.after ?? 0,
      limit: limit + 1,
      viewer: visibilityOf(access.member!),
    });
    const items = rows.slice(0, limit);
    return { items: items.map(eventJson), lastSeq: access.conv.lastSeq, hasMore: rows.length > limit };
  }
}
