import type { AuditAction, AuditTargetType } from '@parley/protocol';
import type { AuditId, UserId } from './ids.js';

/** One admin action, as the audit log keeps it. */
export interface AuditRecord {
  id: AuditId;
  at: number;
  actorId: UserId;
  /** The actor's display name when it acted (the account may be renamed or deleted later). */
  actorName: string;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string;
  /** What changed. Never secrets (passwords, keys, tokens). */
  details: Record<string, unknown>;
}
