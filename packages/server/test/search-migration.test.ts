import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '@parley/server';
import Database from 'better-sqlite3';
import { parseQuery, type ConversationId, type MessageId, type UserId } from '../src/domain/index.js';
import { createPostgresDialect } from '../src/store/kysely/dialects/postgres.js';
import { createSqliteDialect } from '../src/store/kysely/dialects/sqlite.js';
import type { StoreDialect } from '../src/store/kysely/dialects/store-dialect.js';
import { migrationProvider } from '../src/store/kysely/migrations/index.js';
import { aMessage } from './contracts/fixtures.js';
import { PG_URL, storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();
const T0 = 1_700_000_000_000;

/** A database as a server before search had left it: migrated up to 003, with a room and messages. */
async function seedBeforeSearch(seam: StoreDialect): Promise<void> {
  const db = new Kysely<any>({ dialect: seam.kyselyDialect });
  try {
    await seam.prepare?.();
    const schema = await seam.currentSchema?.();
    const migrator = new Migrator({
      db,
      provider: migrationProvider,
      migrationTableName: 'parley_migrations',
      migrationLockTableName: 'parley_migrations_lock',
      ...(schema !== undefined ? { migrationTableSchema: schema } : {}),
    });
    const { error } = await migrator.migrateTo('003-event-authors');
    if (error) throw error;
    const conversation = (id: string, kind: string, title: string | null, extra: Record<string, unknown> = {}) => ({
      id, kind, title, description: '', keywords: '[]', public: 1, discoverable: 1, created_by: 'usr_a',
      created_at: T0, updated_at: T0, last_activity_at: T0, ...extra,
    });
    await db.insertInto('conversations').values([
      conversation('cnv_room', 'room', 'Quarterly planning', { description: 'Budgets for 2025', keywords: '["finance"]' }),
      conversation('cnv_gone', 'room', 'Quarterly archive', { deleted_at: T0 }),
      conversation('cnv_group', 'group', 'Quarterly group'),
    ]).execute();
    await db.insertInto('members').values({ conversation_id: 'cnv_room', user_id: 'usr_a', role: 'owner', history_from: null, joined_at: T0 }).execute();
    const message = (id: string, seq: number, type: string, content: string, extra: Record<string, unknown> = {}) => ({
      id, conversation_id: 'cnv_room', seq, type, content, sender_id: 'usr_a', sender_display_name: 'A', created_at: T0 + seq, ...extra,
    });
    await db.insertInto('messages').values([
      message('msg_1', 1, 'text', 'The budget is approved'),
      message('msg_2', 2, 'html', '<p>Budget <b>東京</b> office</p>'),
      message('msg_3', 3, 'text', '', { deleted_at: T0 }),
      message('msg_4', 4, 'system', 'budget system note'),
    ]).execute();
  } finally {
    await db.destroy();
  }
}

describe.each(STORES)('$name: migration 004 indexes what was there before', (impl) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('backfills room and message search, skipping deleted rooms, other kinds, deleted and system messages', async () => {
    let url: string;
    let schema: string | undefined;
    if (impl.name === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'parley-migrate-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      url = join(dir, 'old.db');
      await seedBeforeSearch(createSqliteDialect(url));
    } else {
      url = PG_URL;
      schema = `parley_test_${randomBytes(6).toString('hex')}`;
      await seedBeforeSearch(createPostgresDialect({ url, schema }));
    }
    const store = await openStore({ url, ...(schema !== undefined ? { schema, dropSchemaOnClose: true } : {}) });
    cleanups.push(() => store.close());

    const rooms = await store.search.searchRooms({
      text: parseQuery('quarterly'),
      filter: {},
      viewer: 'usr_a' as UserId,
      all: true,
      sort: 'relevance',
      page: { limit: 10 },
    });
    expect(rooms.map((h) => h.conversation.id)).toEqual(['cnv_room']);
    const byKeyword = await store.search.searchRooms({ filter: { labels: ['Finance'] }, viewer: 'usr_a' as UserId, all: true, sort: 'activity', page: { limit: 10 } });
    expect(byKeyword.map((h) => h.conversation.id)).toEqual(['cnv_room']);

    const messages = (q: string) =>
      store.search
        .searchMessages({ text: parseQuery(q), viewer: 'usr_a' as UserId, sort: 'oldest', page: { limit: 10 } })
        .then((hits) => hits.map((h) => h.message.id));
    expect(await messages('budget')).toEqual(['msg_1', 'msg_2']);
    expect(await messages('東京')).toEqual(['msg_2']);

    // Entries indexed by the old insert trigger and by what replaced it (migration 012) live side by side.
    const room = await store.conversations.get('cnv_room' as ConversationId);
    const later = aMessage(room!, 5, 'usr_a' as UserId, { content: 'budget revisited', createdAt: T0 + 5 });
    await store.messages.append(later);
    await store.messages.update('msg_1' as MessageId, { content: 'The plan is approved', version: 2, editedAt: T0 + 6 });
    expect(await messages('budget')).toEqual(['msg_2', later.id]);
    if (impl.name === 'sqlite') {
      const db = new Database(url);
      try {
        expect(() => db.prepare("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
      } finally {
        db.close();
      }
    }
  });
});
