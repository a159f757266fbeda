import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@parley/server';
import { newId, type GroupRecord, type UserId } from '../../src/domain/index.js';
import type { StoreImpl } from '../helpers/test-stores.js';
import { aUser } from './fixtures.js';

function aGroup(ownerId: UserId | null, overrides: Partial<GroupRecord> = {}): GroupRecord {
  const now = Date.now();
  return { id: newId('group', now), name: 'Group', description: '', visibility: 'private', ownerId, createdAt: now, updatedAt: now, ...overrides };
}

/** The group part of the store contract. */
export function describeGroupStore(impl: StoreImpl): void {
  describe(`${impl.name}: group store contract`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await impl.open();
    });
    afterAll(() => store.close());

    const users = async (n: number) => {
      const out = Array.from({ length: n }, () => aUser());
      for (const u of out) await store.users.insert(u);
      return out;
    };

    it('inserts, reads with a member count, updates and deletes (members with it)', async () => {
      const [owner, a] = await users(2);
      const g = aGroup(owner!.id, { description: 'd' });
      await store.groups.insert(g);
      expect(await store.groups.get(g.id)).toEqual({ ...g, memberCount: 0 });
      expect(await store.groups.addMember({ groupId: g.id, userId: a!.id, addedAt: 5 })).toBe(true);
      expect(await store.groups.addMember({ groupId: g.id, userId: a!.id, addedAt: 6 })).toBe(false);
      await store.groups.update(g.id, { name: 'Renamed', visibility: 'public', updatedAt: g.updatedAt + 1 });
      expect(await store.groups.get(g.id)).toMatchObject({ name: 'Renamed', visibility: 'public', description: 'd', memberCount: 1, updatedAt: g.updatedAt + 1 });
      expect(await store.groups.delete(g.id)).toBe(true);
      expect(await store.groups.get(g.id)).toBeUndefined();
      expect(await store.groups.delete(g.id)).toBe(false);
      expect(await store.groups.membershipsOf(a!.id, [g.id])).toEqual(new Set());
    });

    it('lists members in the order they were added, with skip and keyset paging, and the enabled ones', async () => {
      const [owner, a, b, c] = await users(4);
      const g = aGroup(owner!.id);
      await store.groups.insert(g);
      await store.groups.addMember({ groupId: g.id, userId: c!.id, addedAt: 1 });
      await store.groups.addMember({ groupId: g.id, userId: a!.id, addedAt: 2 });
      await store.groups.addMember({ groupId: g.id, userId: b!.id, addedAt: 2 });
      const tied = [a!.id, b!.id].sort();
      const order = [c!.id, ...tied];
      expect((await store.groups.listMembers(g.id, { limit: 10 })).map((m) => m.userId)).toEqual(order);
      expect((await store.groups.listMembers(g.id, { limit: 1, skip: 1 })).map((m) => m.userId)).toEqual([order[1]]);
      const after = await store.groups.listMembers(g.id, { limit: 10, after: [2, tied[0]!] });
      expect(after.map((m) => m.userId)).toEqual([tied[1]]);
      expect(after[0]).toMatchObject({ groupId: g.id, addedAt: 2, kind: 'human', handle: expect.any(String), displayName: 'Someone' });
      await store.users.update(a!.id, { disabled: true });
      expect(await store.groups.listActiveMemberIds(g.id)).toEqual([c!.id, b!.id]);
      expect(await store.groups.removeMember(g.id, c!.id)).toBe(true);
      expect(await store.groups.removeMember(g.id, c!.id)).toBe(false);
      expect((await store.groups.get(g.id))!.memberCount).toBe(2);
    });

    it('filters the listing by visibility, name, ownership or membership, and what a user may see', async () => {
      const [alice, bob, carol] = await users(3);
      const name = `n${Date.now()}${Math.random()}`;
      const pub = aGroup(alice!.id, { name, visibility: 'public' });
      const alicePrivate = aGroup(alice!.id, { name });
      const bobPrivate = aGroup(bob!.id, { name });
      for (const g of [pub, alicePrivate, bobPrivate]) await store.groups.insert(g);
      await store.groups.addMember({ groupId: bobPrivate.id, userId: carol!.id, addedAt: 1 });
      const ids = async (filter: Parameters<Store['groups']['listPage']>[0]) =>
        (await store.groups.listPage({ name, ...filter }, { limit: 10 })).map((g) => g.id).sort();
      const sorted = (...xs: string[]) => [...xs].sort();
      expect(await ids({})).toEqual(sorted(pub.id, alicePrivate.id, bobPrivate.id));
      expect(await ids({ visibility: 'public' })).toEqual([pub.id]);
      expect(await ids({ visibleTo: carol!.id })).toEqual(sorted(pub.id, bobPrivate.id));
      expect(await ids({ visibleTo: alice!.id })).toEqual(sorted(pub.id, alicePrivate.id));
      expect(await ids({ ownerOrMember: carol!.id })).toEqual([bobPrivate.id]);
      expect(await ids({ ownerOrMember: bob!.id, visibility: 'public' })).toEqual([]);
      const first = await store.groups.listPage({ name }, { limit: 2 });
      const rest = await store.groups.listPage({ name }, { limit: 2, after: first.at(-1)!.id });
      expect([...first, ...rest].map((g) => g.id)).toEqual(sorted(pub.id, alicePrivate.id, bobPrivate.id));
      expect(await store.groups.membershipsOf(carol!.id, [pub.id, bobPrivate.id])).toEqual(new Set([bobPrivate.id]));
    });

    it('drops a deleted user\'s memberships and leaves its groups ownerless', async () => {
      const [owner, m] = await users(2);
      const g = aGroup(owner!.id);
      await store.groups.insert(g);
      await store.groups.addMember({ groupId: g.id, userId: m!.id, addedAt: 1 });
      await store.groups.addMember({ groupId: g.id, userId: owner!.id, addedAt: 2 });
      await store.users.delete(m!.id);
      await store.users.delete(owner!.id);
      expect(await store.groups.get(g.id)).toMatchObject({ ownerId: null, memberCount: 0 });
    });
  });
}
