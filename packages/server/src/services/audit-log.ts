import type { AuditAction, AuditEntry, AuditTargetType } from '@parley/protocol';
import { actsAsAdmin, newId, type Actor, type AuditRecord, type Decision } from '../domain/index.js';
import type { Store } from '../store/index.js';
import { iso } from './render.js';

/** What an audit entry is about. */
export interface AuditTarget {
  type: AuditTargetType;
  id: string;
}

/**
 * Records an admin action. Call it with the transaction that makes the change, so the entry and the
 * change commit (or fail) together.
 */
export async function recordAudit(
  tx: Store,
  actor: Actor,
  at: number,
  action: AuditAction,
  target: AuditTarget,
  details: Record<string, unknown> = {},
): Promise<void> {
  const entry: AuditRecord = {
    id: newId('audit', at),
    at,
    actorId: actor.id,
    actorName: actor.displayName,
    action,
    targetType: target.type,
    targetId: target.id,
    details,
  };
  await tx.audit.append(entry);
}

/**
 * Did this decision need the actor's admin powers? True when the rule allows the actor as an admin
 * and would refuse it without the admin scope: an owner closing its own room is not an admin action,
 * an admin closing someone else's is.
 */
export function usesAdminPower(actor: Actor, rule: (who: Actor) => Decision): boolean {
  if (!actsAsAdmin(actor)) return false;
  return !rule({ ...actor, scopes: actor.scopes.filter((s) => s !== 'admin') }).ok;
}

export function renderAudit(r: AuditRecord): AuditEntry {
  return {
    id: r.id,
    at: iso(r.at),
    actorId: r.actorId,
    actorName: r.actorName,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    details: r.details,
  };
}
