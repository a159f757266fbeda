import type { Kysely } from 'kysely';

// What ACS threads have that conversations lacked. A retention policy: conversations may delete
// themselves some days after creation; the days sit in their own column so the periodic sweep finds
// due conversations with one query. And a member's display name in one conversation (ACS participant
// display name), shown instead of the user's.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('members').addColumn('nickname', 'text').execute();
  await db.schema.alterTable('conversations').addColumn('retention_policy', 'text').execute();
  // bigint: multiplied by a day in milliseconds, an int4 would overflow on PostgreSQL.
  await db.schema.alterTable('conversations').addColumn('retention_days', 'bigint').execute();
  await db.schema.createIndex('conversations_retention_days').on('conversations').column('retention_days').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('conversations_retention_days').execute();
  await db.schema.alterTable('conversations').dropColumn('retention_days').execute();
  await db.schema.alterTable('conversations').dropColumn('retention_policy').execute();
  await db.schema.alterTable('members').dropColumn('nickname').execute();
}
