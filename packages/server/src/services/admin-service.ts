import {
  ADMIN_CONVERSATION_SORTS,
  SORT_ORDERS,
  type AdminConversation,
  type AuditEntry,
  type ConversationKind,
  type ListAdminConversationsQuery,
  type ListAuditLogQuery,
  type Page,
} from '@parley/protocol';
import { badRequest, pageSize, type Actor, type ConversationId, type UserId } from '../domain/index.js';
import type { AdminConversationFilter, AuditFilter } from '../store/index.js';
import { renderAudit } from './audit-log.js';
import { encodeCursor } from './cursor.js';
import { requireAdmin } from './identity-service.js';
import { decodeQueryCursor, pickShape, type QueryShape } from './query-shape.js';
import { parseTime, renderConversationSnapshot } from './render.js';
import type { ServiceContext } from './service-context.js';

const CONVERSATION_PARAMS: QueryShape = {
  kind: 'strings',
  active: 'boolean',
  creator: 'string',
  createdSince: 'string',
  createdUntil: 'string',
  updatedSince: 'string',
  updatedUntil: 'string',
  minMembers: 'integer',
  maxMembers: 'integer',
  sort: 'string',
  order: 'string',
};
const AUDIT_PARAMS: QueryShape = { actorId: 'string', action: 'string', targetType: 'string', targetId: 'string', since: 'string', until: 'string' };

type ConversationParams = Omit<ListAdminConversationsQuery, 'limit' | 'skip' | 'cursor'>;
type AuditParams = Omit<ListAuditLogQuery, 'limit' | 'skip' | 'cursor'>;

const SORT_VALUES = {
  created: (c: { createdAt: number }) => c.createdAt,
  updated: (c: { updatedAt: number }) => c.updatedAt,
  activity: (c: { lastActivityAt: number }) => c.lastActivityAt,
  members: (c: { memberCount: number }) => c.memberCount,
} as const;

/** The enterprise-wide views for admins: every conversation, and the audit log. */
export class AdminService {
  constructor(private readonly ctx: ServiceContext) {}

  async listConversations(actor: Actor, query: ListAdminConversationsQuery): Promise<Page<AdminConversation>> {
    requireAdmin(actor);
    const limit = pageSize(query.limit, this.ctx.limits.defaultPageSize, this.ctx.limits.maxPageSize);
    const cursor = query.cursor === undefined ? undefined : decodeQueryCursor<ConversationParams>(query.cursor, CONVERSATION_PARAMS, 2);
    const p: ConversationParams = cursor?.p ?? pickShape(query, CONVERSATION_PARAMS);
    const sort = p.sort ?? 'created';
    const order = p.order ?? 'asc';
    if (!(ADMIN_CONVERSATION_SORTS as readonly string[]).includes(sort) || !(SORT_ORDERS as readonly string[]).includes(order)) {
      throw badRequest('The cursor is not valid', 'cursor');
    }
    if (p.minMembers !== undefined && p.maxMembers !== undefined && p.minMembers > p.maxMembers) {
      throw badRequest('minMembers is greater than maxMembers', 'minMembers');
    }
    const filter: AdminConversationFilter = {
      ...(p.kind !== undefined ? { kinds: p.kind as ConversationKind[] } : {}),
      ...(p.active !== undefined ? { active: p.active } : {}),
      ...(p.creator !== undefined ? { createdBy: p.creator as UserId } : {}),
      ...(p.createdSince !== undefined ? { createdSince: parseTime(p.createdSince, 'createdSince') } : {}),
      ...(p.createdUntil !== undefined ? { createdUntil: parseTime(p.createdUntil, 'createdUntil') } : {}),
      ...(p.updatedSince !== undefined ? { updatedSince: parseTime(p.updatedSince, 'updatedSince') } : {}),
      ...(p.updatedUntil !== undefined ? { updatedUntil: parseTime(p.updatedUntil, 'updatedUntil') } : {}),
      ...(p.minMembers !== undefined ? { minMembers: p.minMembers } : {}),
      ...(p.maxMembers !== undefined ? { maxMembers: p.maxMembers } : {}),
    };
    const after = cursor ? ([cursor.k[0] as number, cursor.k[1] as ConversationId] as const) : undefined;
    const rows = await this.ctx.store.conversations.listAll(filter, sort, order, {
      limit: limit + 1,
      ...(after ? { after } : { skip: query.skip ?? 0 }),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(renderConversationSnapshot),
      nextCursor: rows.length > limit && last ? encodeCursor({ k: [SORT_VALUES[sort](last), last.id], p }) : null,
    };
  }

  async listAudit(actor: Actor, query: ListAuditLogQuery): Promise<Page<AuditEntry>> {
    requireAdmin(actor);
    const limit = pageSize(query.limit, this.ctx.limits.defaultPageSize, this.ctx.limits.maxPageSize);
    const cursor = query.cursor === undefined ? undefined : decodeQueryCursor<AuditParams>(query.cursor, AUDIT_PARAMS, 1);
    const p: AuditParams = cursor?.p ?? pickShape(query, AUDIT_PARAMS);
    const filter: AuditFilter = {
      ...(p.actorId !== undefined ? { actorId: p.actorId as UserId } : {}),
      ...(p.action !== undefined ? { action: p.action } : {}),
      ...(p.targetType !== undefined ? { targetType: p.targetType } : {}),
      ...(p.targetId !== undefined ? { targetId: p.targetId } : {}),
      ...(p.since !== undefined ? { since: parseTime(p.since, 'since') } : {}),
      ...(p.until !== undefined ? { until: parseTime(p.until, 'until') } : {}),
    };
    const rows = await this.ctx.store.audit.listPage(filter, {
      limit: limit + 1,
      ...(cursor ? { after: cursor.k[0] as string } : { skip: query.skip ?? 0 }),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items: items.map(renderAudit), nextCursor: rows.length > limit && last ? encodeCursor({ k: [last.id], p }) : null };
  }
}
