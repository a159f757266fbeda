import type { Kysely } from 'kysely';
import type { IdempotencyRecord, UserId } from '../../domain/index.js';
import type { IdempotencyStore } from '../store.js';
import type { Database } from './schema.js';
import type { Guard } from './guard.js';

export class KyselyIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  async get(userId: UserId, scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('user_id', '=', userId)
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    return (
      row && {
        userId: row.user_id as UserId,
        scope: row.scope,
        key: row.key,
        requestHash: row.request_hash,
        resultId: row.result_id,
        createdAt: row.created_at,
      }
    );
  }

  async deleteOlderThan(cutoff: number): Promise<number> {
    const r = await this.db.deleteFrom('idempotency_keys').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async insert(record: IdempotencyRecord): Promise<void> {
    await this.guard('idempotency_keys.pk', () =>
      this.db
        .insertInto('idempotency_keys')
        .values({
          user_id: record.userId,
          scope: record.scope,
          key: record.key,
          request_hash: record.requestHash,
          result_id: record.resultId,
          created_at: record.createdAt,
        })
        .execute(),
    );
  }
}
