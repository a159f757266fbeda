import type { Kysely } from 'kysely';
import type { ApiKeyId, ApiKeyRecord, UserId, UserRecord } from '../../domain/index.js';
import type { ApiKeyStore, PageRequest, UserFilter, UserStore } from '../store.js';
import type { Database } from './schema.js';
import { apiKeyFromRow, userFromRow, userToRow } from './rows.js';
import type { Guard } from './guard.js';
import { arg, preparedQuery } from './prepared-query.js';

// Every authenticated request reads its user (see preparedQuery).
const getUser = preparedQuery<Database['users'], [id: string]>((db) => db.selectFrom('users').selectAll().where('id', '=', arg<string>(0)));

export class KyselyUserStore implements UserStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  async insert(user: UserRecord): Promise<void> {
    await this.guard('users.handle', () => this.db.insertInto('users').values(userToRow(user) as Database['users']).execute());
  }

  async get(id: UserId): Promise<UserRecord | undefined> {
    const [row] = await getUser(this.db, id);
    return row && userFromRow(row);
  }

  async getByHandle(handle: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('handle', '=', handle).executeTakeFirst();
    return row && userFromRow(row);
  }

  async getMany(ids: readonly UserId[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
    return rows.map(userFromRow);
  }

  async update(id: UserId, patch: Partial<Omit<UserRecord, 'id' | 'createdAt'>>): Promise<UserRecord | undefined> {
    const row = userToRow(patch);
    if (Object.keys(row).length > 0) await this.db.updateTable('users').set(row).where('id', '=', id).execute();
    return this.get(id);
  }

  async delete(id: UserId): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async listPage(filter: UserFilter, page: PageRequest<UserId>): Promise<UserRecord[]> {
    let q = this.db.selectFrom('users').selectAll().where('kind', '!=', 'system');
    if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
    if (filter.handle !== undefined) q = q.where('handle', '=', filter.handle);
    if (filter.disabled !== undefined) q = q.where('disabled', '=', filter.disabled ? 1 : 0);
    if (page.after !== undefined) q = q.where('id', '>', page.after);
    q = q.orderBy('id').limit(page.limit);
    if (page.skip) q = q.offset(page.skip);
    return (await q.execute()).map(userFromRow);
  }
}

export class KyselyApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  async insert(key: ApiKeyRecord): Promise<void> {
    await this.guard('api_keys.hash', () =>
      this.db
        .insertInto('api_keys')
        .values({
          id: key.id,
          user_id: key.userId,
          name: key.name,
          prefix: key.prefix,
          hash: key.hash,
          created_at: key.createdAt,
          last_used_at: key.lastUsedAt,
        })
        .execute(),
    );
  }

  async getByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && apiKeyFromRow(row);
  }

  async listForUser(userId: UserId): Promise<ApiKeyRecord[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).orderBy('id').execute();
    return rows.map(apiKeyFromRow);
  }

  async delete(userId: UserId, id: ApiKeyId): Promise<boolean> {
    const r = await this.db.deleteFrom('api_keys').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async touch(id: ApiKeyId, at: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
