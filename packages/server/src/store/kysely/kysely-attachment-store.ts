import type { Kysely } from 'kysely';
import type { AttachmentCategory } from '@parley/protocol';
import type { AttachmentId, AttachmentRecord, ConversationId, MessageId, ThumbnailRecord, UserId } from '../../domain/index.js';
import type { AttachmentStore } from '../store.js';
import { StoreConflict } from '../store-errors.js';
import type { AttachmentsTable, Database } from './schema.js';
import type { Guard } from './guard.js';

const fromRow = (r: AttachmentsTable): AttachmentRecord => ({
  id: r.id as AttachmentId,
  conversationId: r.conversation_id as ConversationId,
  uploaderId: r.uploader_id as UserId,
  messageId: r.message_id as MessageId | null,
  name: r.name,
  mimeType: r.mime_type,
  category: r.category as AttachmentCategory,
  size: Number(r.size),
  sha256: r.sha256,
  width: r.width,
  height: r.height,
  thumbnail: r.thumbnail === null ? null : (JSON.parse(r.thumbnail) as ThumbnailRecord),
  createdAt: Number(r.created_at),
});

const toRow = (a: AttachmentRecord): AttachmentsTable => ({
  id: a.id,
  conversation_id: a.conversationId,
  uploader_id: a.uploaderId,
  message_id: a.messageId,
  name: a.name,
  mime_type: a.mimeType,
  category: a.category,
  size: a.size,
  sha256: a.sha256,
  width: a.width,
  height: a.height,
  thumbnail: a.thumbnail === null ? null : JSON.stringify(a.thumbnail),
  created_at: a.createdAt,
  deleted_at: null,
});

export class KyselyAttachmentStore implements AttachmentStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  async insert(attachment: AttachmentRecord): Promise<void> {
    await this.guard('attachments.pk', () => this.db.insertInto('attachments').values(toRow(attachment)).execute());
  }

  async get(id: AttachmentId): Promise<AttachmentRecord | undefined> {
    const row = await this.db.selectFrom('attachments').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return row && fromRow(row);
  }

  async getMany(ids: readonly AttachmentId[]): Promise<AttachmentRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('attachments')
      .selectAll()
      .where('id', 'in', [...ids])
      .where('deleted_at', 'is', null)
      .execute();
    return rows.map(fromRow);
  }

  async bindToMessage(ids: readonly AttachmentId[], messageId: MessageId): Promise<void> {
    if (ids.length === 0) return;
    // All or none: outside a caller's transaction, one of our own rolls back a partial bind.
    const bind = async (db: Kysely<Database>) => {
      // Only pending rows: of two sends racing for one upload, the second binds nothing and fails here.
      const r = await db
        .updateTable('attachments')
        .set({ message_id: messageId })
        .where('id', 'in', [...ids])
        .where('message_id', 'is', null)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== ids.length) throw new StoreConflict('attachments.message_id');
    };
    if (this.db.isTransaction) await bind(this.db);
    else await this.db.transaction().execute(bind);
  }

  async releaseForMessage(messageId: MessageId, at: number): Promise<AttachmentRecord[]> {
    const rows = await this.db
      .selectFrom('attachments')
      .selectAll()
      .where('message_id', '=', messageId)
      .where('deleted_at', 'is', null)
      .execute();
    if (rows.length === 0) return [];
    await this.db.updateTable('attachments').set({ deleted_at: at }).where('message_id', '=', messageId).where('deleted_at', 'is', null).execute();
    return rows.map(fromRow);
  }

  async releasePending(id: AttachmentId, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('attachments')
      .set({ deleted_at: at })
      .where('id', '=', id)
      .where('message_id', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async listPurgeable(pendingBefore: number, limit: number): Promise<AttachmentRecord[]> {
    const rows = await this.db
      .selectFrom('attachments as a')
      .selectAll('a')
      .where((eb) =>
        eb.or([
          eb.and([eb('a.message_id', 'is', null), eb('a.created_at', '<', pendingBefore)]),
          eb('a.deleted_at', 'is not', null),
          // Bound to a message that is gone, however it went (a delete, or a retention policy).
          eb.and([
            eb('a.message_id', 'is not', null),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('messages as m')
                  .select('m.id')
                  .whereRef('m.id', '=', 'a.message_id')
                  .where('m.deleted_at', 'is', null),
              ),
            ),
          ]),
          eb.exists(
            eb
              .selectFrom('conversations as c')
              .select('c.id')
              .whereRef('c.id', '=', 'a.conversation_id')
              .where('c.deleted_at', 'is not', null),
          ),
        ]),
      )
      .orderBy('a.created_at')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  async remove(id: AttachmentId): Promise<void> {
    await this.db.deleteFrom('attachments').where('id', '=', id).execute();
  }
}
