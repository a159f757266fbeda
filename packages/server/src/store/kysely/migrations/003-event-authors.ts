import type { Kysely } from 'kysely';

// Who wrote the message an event is about: a message meant for one member stays visible to its author
// through every later event about it, whoever causes those (an owner deleting it, say).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('events').addColumn('author_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('events').dropColumn('author_id').execute();
}
