import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@parley/server';
import { newId, type AuditRecord, type ConversationRecord, type UserId } from '../../src/domain/index.js';
import type { StoreImpl } from '../helpers/test-stores.js';
import { aConversation } from './fixtures.js';

/** The contract of the admin listing of conversations and of the audit log store. */
export function describeAdminStore(impl: StoreImpl): void {
  describe(`${impl.name}: admin store contract`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await impl.open();
    });
    afterAll(() => store.close());

    describe('conversations.listAll', () => {
      const creator = newId('user');
      let convs: ConversationRecord[];
      const ids = (rows: ConversationRecord[]) => rows.map((c) => c.id);

      beforeAll(async () => {
        convs = [
          aConversation(creator, { kind: 'room', createdAt: 1000, updatedAt: 5000, lastActivityAt: 9000, memberCount: 3 }),
          aConversation(creator, { kind: 'group', title: null, createdAt: 2000, updatedAt: 4000, lastActivityAt: 8000, memberCount: 10 }),
          aConversation(creator, { kind: 'direct', title: null, createdAt: 3000, updatedAt: 3000, lastActivityAt: 7000, memberCount: 2 }),
          aConversation(creator, { kind: 'room', active: false, createdAt: 4000, updatedAt: 6000, lastActivityAt: 6000, memberCount: 3 }),
        ];
        for (const c of convs) await store.conversations.insert(c);
        const gone = aConversation(creator, { createdAt: 4500 });
        await store.conversations.insert(gone);
        await store.conversations.markDeleted(gone.id, 4600);
      });

      const list = (filter: Parameters<Store['conversations']['listAll']>[0], sort: 'created' | 'updated' | 'activity' | 'members' = 'created', order: 'asc' | 'desc' = 'asc', limit = 50) =>
        store.conversations.listAll({ createdBy: creator, ...filter }, sort, order, { limit });

      it('lists every live conversation of every kind, filtered', async () => {
        expect(ids(await list({}))).toEqual(ids(convs));
        expect(ids(await list({ kinds: ['room'] }))).toEqual([convs[0]!.id, convs[3]!.id]);
        expect(ids(await list({ kinds: ['group', 'direct'] }))).toEqual([convs[1]!.id, convs[2]!.id]);
        expect(ids(await list({ active: false }))).toEqual([convs[3]!.id]);
        expect(ids(await list({ createdSince: 2000, createdUntil: 4000 }))).toEqual([convs[1]!.id, convs[2]!.id]);
        expect(ids(await list({ updatedSince: 4000, updatedUntil: 6000 }))).toEqual([convs[0]!.id, convs[1]!.id]);
        expect(ids(await list({ minMembers: 3, maxMembers: 3 }))).toEqual([convs[0]!.id, convs[3]!.id]);
        expect(ids(await list({ minMembers: 4 }))).toEqual([convs[1]!.id]);
        expect(await list({ createdBy: newId('user') })).toEqual([]);
      });

      it('sorts by each key in both orders, ties by id', async () => {
        expect(ids(await list({}, 'created', 'desc'))).toEqual(ids(convs).reverse());
        expect(ids(await list({}, 'updated'))).toEqual([convs[2]!.id, convs[1]!.id, convs[0]!.id, convs[3]!.id]);
        expect(ids(await list({}, 'activity', 'desc'))).toEqual(ids(convs));
        const byMembers = await list({}, 'members');
        expect(byMembers.map((c) => c.memberCount)).toEqual([2, 3, 3, 10]);
        const threes = [convs[0]!.id, convs[3]!.id].sort();
        expect(ids(byMembers).slice(1, 3)).toEqual(threes);
      });

      it('pages by keyset and skip in either order', async () => {
        for (const order of ['asc', 'desc'] as const) {
          const whole = ids(await list({}, 'members', order));
          const walked: string[] = [];
          let after: readonly [number, (typeof convs)[number]['id']] | undefined;
          for (;;) {
            const page = await store.conversations.listAll({ createdBy: creator }, 'members', order, { limit: 1, ...(after ? { after } : {}) });
            if (page.length === 0) break;
            walked.push(...ids(page));
            after = [page[0]!.memberCount, page[0]!.id];
          }
          expect(walked).toEqual(whole);
        }
        expect(ids(await store.conversations.listAll({ createdBy: creator }, 'created', 'asc', { limit: 2, skip: 1 }))).toEqual([convs[1]!.id, convs[2]!.id]);
      });
    });

    describe('audit log', () => {
      const actor = newId('user');
      const entry = (at: number, overrides: Partial<AuditRecord> = {}): AuditRecord => ({
        id: newId('audit', at),
        at,
        actorId: actor,
        actorName: 'Ada',
        action: 'user.created',
        targetType: 'user',
        targetId: newId('user'),
        details: { handle: 'x', nested: { ok: true }, list: [1, 2] },
        ...overrides,
      });
      let entries: AuditRecord[];

      beforeAll(async () => {
        entries = [
          entry(1000),
          entry(2000, { action: 'user.disabled' }),
          entry(3000, { action: 'conversation.deactivated', targetType: 'conversation', targetId: 'cnv_x' }),
          entry(4000, { action: 'api_key.created', targetType: 'api_key', targetId: 'key_y', actorId: newId('user') as UserId }),
        ];
        for (const e of entries) await store.audit.append(e);
      });

      const ours = (rows: AuditRecord[]) => rows.filter((r) => entries.some((e) => e.id === r.id));

      it('round-trips entries and lists them newest first', async () => {
        const rows = ours(await store.audit.listPage({ since: 1000, until: 5000 }, { limit: 100 }));
        expect(rows).toEqual([...entries].reverse());
      });

      it('filters by actor, action or action family, target and time', async () => {
        const ids = async (filter: Parameters<Store['audit']['listPage']>[0]) => ours(await store.audit.listPage(filter, { limit: 100 })).map((r) => r.id);
        expect(await ids({ actorId: actor })).toEqual([entries[2]!.id, entries[1]!.id, entries[0]!.id]);
        expect(await ids({ action: 'user.disabled' })).toEqual([entries[1]!.id]);
        expect(await ids({ action: 'user.*' })).toEqual([entries[1]!.id, entries[0]!.id]);
        expect(await ids({ targetType: 'conversation', targetId: 'cnv_x' })).toEqual([entries[2]!.id]);
        expect(await ids({ since: 2000, until: 4000 })).toEqual([entries[2]!.id, entries[1]!.id]);
      });

      it('pages by keyset and skip', async () => {
        const filter = { since: 1000, until: 5000 };
        const walked: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.audit.listPage(filter, { limit: 1, ...(after ? { after } : {}) });
          if (page.length === 0) break;
          walked.push(page[0]!.id);
          after = page[0]!.id;
        }
        expect(ours(walked.map((id) => ({ id }) as AuditRecord)).map((r) => r.id)).toEqual([...entries].reverse().map((e) => e.id));
        expect((await store.audit.listPage({ actorId: actor }, { limit: 1, skip: 1 })).map((r) => r.id)).toEqual([entries[1]!.id]);
      });

      it('commits and rolls back with the transaction it is written in', async () => {
        const kept = entry(10_000, { actorId: newId('user') });
        await store.transaction(async (tx) => tx.audit.append(kept));
        const dropped = entry(10_001, { actorId: kept.actorId });
        await expect(
          store.transaction(async (tx) => {
            await tx.audit.append(dropped);
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect((await store.audit.listPage({ actorId: kept.actorId }, { limit: 10 })).map((r) => r.id)).toEqual([kept.id]);
      });
    });
  });
}
