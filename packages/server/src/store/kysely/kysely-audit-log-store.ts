import type { Kysely } from 'kysely';
import type { AuditAction, AuditTargetType } from '@parley/protocol';
import type { AuditId, AuditRecord, UserId } from '../../domain/index.js';
import type { AuditFilter, AuditLogStore, PageRequest } from '../store.js';
import type { Database } from './schema.js';

export class KyselyAuditLogStore implements AuditLogStore {
  constructor(private readonly db: Kysely<Database>) {}

  async append(entry: AuditRecord): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        id: entry.id,
        at: entry.at,
        actor_id: entry.actorId,
        actor_name: entry.actorName,
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId,
        details: JSON.stringify(entry.details),
      })
      .execute();
  }

  async listPage(filter: AuditFilter, page: PageRequest<string>): Promise<AuditRecord[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (filter.actorId !== undefined) q = q.where('actor_id', '=', filter.actorId);
    if (filter.action !== undefined) {
      // A family (`user.*`) is every action with that prefix; action names are [a-z_.] only.
      q = filter.action.endsWith('.*')
        ? q.where('action', 'like', `${filter.action.slice(0, -1)}%`)
        : q.where('action', '=', filter.action);
    }
    if (filter.targetType !== undefined) q = q.where('target_type', '=', filter.targetType);
    if (filter.targetId !== undefined) q = q.where('target_id', '=', filter.targetId);
    if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
    if (filter.until !== undefined) q = q.where('at', '<', filter.until);
    if (page.after !== undefined) q = q.where('id', '<', page.after);
    q = q.orderBy('id', 'desc').limit(page.limit);
    if (page.skip) q = q.offset(page.skip);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: r.id as AuditId,
      at: Number(r.at),
      actorId: r.actor_id as UserId,
      actorName: r.actor_name,
      action: r.action as AuditAction,
      targetType: r.target_type as AuditTargetType,
      targetId: r.target_id,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }
}
