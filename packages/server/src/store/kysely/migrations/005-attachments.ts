import type { Kysely } from 'kysely';

// Attachments: one row per uploaded file (pending until a message carries it), and on each message a
// JSON snapshot of its files, so a message renders, and its events serialise, without a join.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('uploader_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('thumbnail', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // Set when the message carrying it is deleted: the bytes are due for removal.
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('attachments_message').on('attachments').column('message_id').execute();
  await db.schema.createIndex('attachments_conversation').on('attachments').column('conversation_id').execute();
  await db.schema.createIndex('attachments_created').on('attachments').column('created_at').execute();
  await db.schema.alterTable('messages').addColumn('attachments', 'text', (c) => c.notNull().defaultTo('[]')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').dropColumn('attachments').execute();
  await db.schema.dropTable('attachments').execute();
}
