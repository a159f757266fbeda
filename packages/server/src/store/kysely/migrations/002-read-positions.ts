import type { Kysely } from 'kysely';

// Read receipts: how far each member has read, kept on the membership itself.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('members').addColumn('last_read_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('members').addColumn('last_read_message_id', 'text').execute();
  await db.schema.alterTable('members').addColumn('last_read_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['last_read_at', 'last_read_message_id', 'last_read_seq']) {
    await db.schema.alterTable('members').dropColumn(column).execute();
  }
}
