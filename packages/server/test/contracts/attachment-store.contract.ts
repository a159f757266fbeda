import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@parley/server';
import { isStoreConflict } from '../../src/store/index.js';
import { newId, type AttachmentRecord, type ConversationId, type UserId } from '../../src/domain/index.js';
import type { StoreImpl } from '../helpers/test-stores.js';
import { aConversation, aMessage } from './fixtures.js';

function anAttachment(conversationId: ConversationId, uploaderId: UserId, overrides: Partial<AttachmentRecord> = {}): AttachmentRecord {
  const now = Date.now();
  return {
    id: newId('attachment', now),
    conversationId,
    uploaderId,
    messageId: null,
    name: 'report.pdf',
    mimeType: 'application/pdf',
    category: 'attachment',
    size: 3_000_000_000, // past 32 bits: sizes are bigints in the database
    sha256: 'ab'.repeat(32),
    width: null,
    height: null,
    thumbnail: null,
    createdAt: now,
    ...overrides,
  };
}

/** The contract of `store.attachments` and of the attachments a message carries. */
export function describeAttachmentStore(impl: StoreImpl): void {
  describe(`${impl.name}: attachment store contract`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await impl.open();
    });
    afterAll(() => store.close());

    it('inserts, gets and gets many; a message keeps its attachment snapshots', async () => {
      const uploader = newId('user');
      const c = aConversation(uploader);
      await store.conversations.insert(c);
      const image = anAttachment(c.id, uploader, {
        category: 'image',
        mimeType: 'image/png',
        width: 640,
        height: 480,
        thumbnail: { mimeType: 'image/webp', width: 320, height: 240, size: 999 },
      });
      const doc = anAttachment(c.id, uploader);
      await store.attachments.insert(image);
      await store.attachments.insert(doc);
      expect(await store.attachments.get(image.id)).toEqual(image);
      expect(await store.attachments.get(newId('attachment'))).toBeUndefined();
      const many = await store.attachments.getMany([doc.id, image.id, newId('attachment')]);
      expect(many.sort((a, b) => a.id.localeCompare(b.id))).toEqual([image, doc].sort((a, b) => a.id.localeCompare(b.id)));
      expect(await store.attachments.getMany([])).toEqual([]);
      await expect(store.attachments.insert(image)).rejects.toSatisfy(isStoreConflict);

      const m = aMessage(c, 1, uploader, { attachments: [image, doc] });
      await store.messages.append(m);
      expect((await store.messages.get(c.id, m.id))!.attachments).toEqual([image, doc]);
      await store.messages.update(m.id, { attachments: [] });
      expect((await store.messages.get(c.id, m.id))!.attachments).toEqual([]);
    });

    it('binds pending attachments to a message once; a second bind conflicts and changes nothing', async () => {
      const uploader = newId('user');
      const c = aConversation(uploader);
      await store.conversations.insert(c);
      const [a, b] = [anAttachment(c.id, uploader), anAttachment(c.id, uploader)];
      await store.attachments.insert(a);
      await store.attachments.insert(b);
      const first = newId('message');
      await store.attachments.bindToMessage([a.id], first);
      expect((await store.attachments.get(a.id))!.messageId).toBe(first);
      await expect(store.attachments.bindToMessage([b.id, a.id], newId('message'))).rejects.toSatisfy(isStoreConflict);
      // In a transaction the failed bind rolls back with everything else.
      const second = newId('message');
      await expect(
        store.transaction(async (tx) => {
          await tx.attachments.bindToMessage([b.id], second);
          await tx.attachments.bindToMessage([a.id], second);
        }),
      ).rejects.toSatisfy(isStoreConflict);
      expect((await store.attachments.get(b.id))!.messageId).toBeNull();
      await store.attachments.bindToMessage([], second); // nothing to bind is not an error
    });

    it('releases pending uploads and a message\'s attachments; released ones are hidden', async () => {
      const uploader = newId('user');
      const c = aConversation(uploader);
      await store.conversations.insert(c);
      const [pending, sent1, sent2] = [anAttachment(c.id, uploader), anAttachment(c.id, uploader), anAttachment(c.id, uploader)];
      for (const a of [pending, sent1, sent2]) await store.attachments.insert(a);
      const message = newId('message');
      await store.attachments.bindToMessage([sent1.id, sent2.id], message);

      expect(await store.attachments.releasePending(sent1.id, 5)).toBe(false); // sent: not pending
      expect(await store.attachments.releasePending(pending.id, 5)).toBe(true);
      expect(await store.attachments.get(pending.id)).toBeUndefined();
      expect(await store.attachments.getMany([pending.id])).toEqual([]);

      const released = await store.attachments.releaseForMessage(message, 6);
      expect(released.map((a) => a.id).sort()).toEqual([sent1.id, sent2.id].sort());
      expect(await store.attachments.releaseForMessage(message, 7)).toEqual([]);
      expect(await store.attachments.get(sent1.id)).toBeUndefined();
    });

    it('lists what may be purged: expired pending, released, and those of deleted conversations; remove forgets', async () => {
      const uploader = newId('user');
      const live = aConversation(uploader);
      const gone = aConversation(uploader);
      await store.conversations.insert(live);
      await store.conversations.insert(gone);
      const base = 1_000_000;
      const old = anAttachment(live.id, uploader, { createdAt: base });
      const fresh = anAttachment(live.id, uploader, { createdAt: base + 10_000 });
      const sent = anAttachment(live.id, uploader, { createdAt: base });
      const released = anAttachment(live.id, uploader, { createdAt: base + 20_000 });
      const orphan = anAttachment(gone.id, uploader, { createdAt: base + 30_000 });
      for (const a of [old, fresh, sent, released, orphan]) await store.attachments.insert(a);
      const kept = aMessage(live, 1, uploader);
      await store.messages.append(kept);
      await store.attachments.bindToMessage([sent.id], kept.id);
      const releasedMessage = newId('message');
      await store.attachments.bindToMessage([released.id, orphan.id], releasedMessage);
      await store.attachments.releaseForMessage(releasedMessage, base + 40_000);
      await store.attachments.releaseForMessage(newId('message'), base); // nothing bound to it
      await store.conversations.markDeleted(gone.id, base + 50_000);

      // Bound to a message deleted without releasing them (a retention policy, say), or to none at all.
      const tombstoned = aMessage(live, 2, uploader);
      await store.messages.append(tombstoned);
      const [onTombstone, onNothing] = [anAttachment(live.id, uploader, { createdAt: base + 1 }), anAttachment(live.id, uploader, { createdAt: base + 2 })];
      for (const a of [onTombstone, onNothing]) await store.attachments.insert(a);
      await store.attachments.bindToMessage([onTombstone.id], tombstoned.id);
      await store.attachments.bindToMessage([onNothing.id], newId('message'));
      await store.messages.update(tombstoned.id, { deletedAt: base + 3 });

      const ids = async (cutoff: number, limit = 100) => (await store.attachments.listPurgeable(cutoff, limit)).map((a) => a.id);
      const mine = new Set([old.id, fresh.id, sent.id, released.id, orphan.id, onTombstone.id, onNothing.id]);
      const purgeable = async (cutoff: number) => (await ids(cutoff)).filter((id) => mine.has(id));
      expect(await purgeable(base + 5_000)).toEqual([old.id, onTombstone.id, onNothing.id, released.id, orphan.id]);
      expect(await purgeable(base + 15_000)).toEqual([old.id, onTombstone.id, onNothing.id, fresh.id, released.id, orphan.id]);
      expect((await ids(base + 15_000, 1)).length).toBe(1);

      for (const a of [old, released, orphan, onTombstone, onNothing]) await store.attachments.remove(a.id);
      expect(await purgeable(base + 5_000)).toEqual([]);
      expect(await store.attachments.get(sent.id)).toMatchObject({ id: sent.id });
    });
  });
}
