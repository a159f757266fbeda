import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@parley/server';
import { isStoreConflict } from '../../src/store/index.js';
import { newId, parseQuery, type EventRecord, type UserId } from '../../src/domain/index.js';
import type { StoreImpl } from '../helpers/test-stores.js';
import { aConversation, aMessage, aUser } from './fixtures.js';

/** The contract every Store implementation passes. */
export function describeStore(impl: StoreImpl): void {
  describe(`${impl.name}: store contract`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await impl.open();
    });
    afterAll(() => store.close());

    describe('users', () => {
      it('inserts, reads by id and handle, updates and deletes', async () => {
        const u = aUser({ admin: true, passwordHash: 'x' });
        await store.users.insert(u);
        expect(await store.users.get(u.id)).toEqual(u);
        expect(await store.users.getByHandle(u.handle)).toEqual(u);
        const updated = await store.users.update(u.id, { displayName: 'New', disabled: true, tokenVersion: 3 });
        expect(updated).toMatchObject({ displayName: 'New', disabled: true, tokenVersion: 3, admin: true });
        expect(await store.users.delete(u.id)).toBe(true);
        expect(await store.users.get(u.id)).toBeUndefined();
        expect(await store.users.delete(u.id)).toBe(false);
      });

      it('refuses a duplicate handle with StoreConflict', async () => {
        const u = aUser();
        await store.users.insert(u);
        const err = await store.users.insert({ ...aUser(), handle: u.handle }).catch((e: unknown) => e);
        expect(isStoreConflict(err)).toBe(true);
      });

      it('pages by id with skip or keyset and filters', async () => {
        // Ids made in the same millisecond are unordered among themselves: sort them as the store does.
        const bots = [aUser({ kind: 'bot' }), aUser({ kind: 'bot' }), aUser({ kind: 'bot' })].sort((x, y) => (x.id < y.id ? -1 : 1));
        for (const b of bots) await store.users.insert(b);
        const all = await store.users.listPage({ kind: 'bot' }, { limit: 1000 });
        const ours = all.filter((u) => bots.some((b) => b.id === u.id)).map((u) => u.id);
        expect(ours).toEqual(bots.map((b) => b.id).sort());
        const first = await store.users.listPage({ kind: 'bot' }, { limit: 1, after: bots[0]!.id });
        expect(first.map((u) => u.id)).toEqual([bots[1]!.id]);
        expect(await store.users.listPage({ handle: bots[1]!.handle }, { limit: 5 })).toEqual([bots[1]]);
        expect(await store.users.getMany([bots[0]!.id, bots[2]!.id, 'usr_missing' as UserId])).toHaveLength(2);
      });
    });

    describe('api keys', () => {
      it('stores hashed keys, finds by hash, lists, touches and deletes', async () => {
        const u = aUser();
        await store.users.insert(u);
        const key = { id: newId('apiKey'), userId: u.id, name: 'ci', prefix: 'pk_abc', hash: `h-${u.id}`, createdAt: 1, lastUsedAt: null };
        await store.apiKeys.insert(key);
        expect(await store.apiKeys.getByHash(key.hash)).toEqual(key);
        await store.apiKeys.touch(key.id, 42);
        expect((await store.apiKeys.listForUser(u.id))[0]!.lastUsedAt).toBe(42);
        expect(await store.apiKeys.delete(u.id, key.id)).toBe(true);
        expect(await store.apiKeys.getByHash(key.hash)).toBeUndefined();
      });
    });

    describe('conversations', () => {
      it('round-trips every attribute', async () => {
        const c = aConversation(newId('user'), { public: true, readOnly: true, keywords: ['x'], metadata: { a: 'b' } });
        await store.conversations.insert(c);
        expect(await store.conversations.get(c.id)).toEqual(c);
      });

      it('assigns dense seqs under concurrent writers, and message seqs separately', async () => {
        const c = aConversation(newId('user'));
        await store.conversations.insert(c);
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            store.transaction((tx) => tx.conversations.nextSeq(c.id, i % 2 === 0, Date.now())),
          ),
        );
        expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect(new Set(results.filter((_, i) => i % 2 === 0).map((r) => r.messageSeq)).size).toBe(20);
        const after = await store.conversations.get(c.id);
        expect(after).toMatchObject({ lastSeq: 40, lastMessageSeq: 20 });
      });

      it('finds by dedupe key, which is unique, and hides deleted conversations', async () => {
        const key = `direct:${newId('user')},${newId('user')}`;
        const c = aConversation(newId('user'), { kind: 'direct', dedupeKey: key });
        await store.conversations.insert(c);
        expect((await store.conversations.getByDedupeKey(key))?.id).toBe(c.id);
        const dup = await store.conversations.insert(aConversation(newId('user'), { dedupeKey: key })).catch((e: unknown) => e);
        expect(isStoreConflict(dup)).toBe(true);
        await store.conversations.markDeleted(c.id, Date.now());
        expect(await store.conversations.get(c.id)).toBeUndefined();
        expect(await store.conversations.getByDedupeKey(key)).toBeUndefined();
      });

      it('lists a member\'s conversations with filters, sorts and both kinds of paging', async () => {
        const u = aUser();
        await store.users.insert(u);
        const convs = [
          aConversation(u.id, { createdAt: 1000, lastActivityAt: 5000, title: 'same' }),
          aConversation(u.id, { createdAt: 2000, lastActivityAt: 4000, kind: 'group', title: null }),
          aConversation(u.id, { createdAt: 3000, lastActivityAt: 6000, title: 'same', active: false }),
        ];
        for (const c of convs) {
          await store.conversations.insert(c);
          await store.members.insert({ conversationId: c.id, userId: u.id, role: 'owner', historyFrom: null, joinedAt: 1 });
        }
        const ids = (rows: { conversation: { id: string } }[]) => rows.map((r) => r.conversation.id);
        expect(ids(await store.conversations.listForMember(u.id, {}, 'created', { limit: 10 }))).toEqual(convs.map((c) => c.id));
        expect(ids(await store.conversations.listForMember(u.id, {}, 'activity', { limit: 10 }))).toEqual([convs[2]!.id, convs[0]!.id, convs[1]!.id]);
        expect(ids(await store.conversations.listForMember(u.id, { kind: 'group' }, 'created', { limit: 10 }))).toEqual([convs[1]!.id]);
        expect(ids(await store.conversations.listForMember(u.id, { active: false }, 'created', { limit: 10 }))).toEqual([convs[2]!.id]);
        expect(ids(await store.conversations.listForMember(u.id, { title: 'same' }, 'created', { limit: 10 }))).toEqual([convs[0]!.id, convs[2]!.id]);
        expect(ids(await store.conversations.listForMember(u.id, {}, 'created', { limit: 1, skip: 1 }))).toEqual([convs[1]!.id]);
        expect(ids(await store.conversations.listForMember(u.id, {}, 'created', { limit: 5, after: [1000, convs[0]!.id] }))).toEqual([convs[1]!.id, convs[2]!.id]);
        expect(ids(await store.conversations.listForMember(u.id, {}, 'activity', { limit: 5, after: [5000, convs[0]!.id] }))).toEqual([convs[1]!.id]);
        expect((await store.conversations.listForMember(u.id, {}, 'created', { limit: 1 }))[0]!.role).toBe('owner');
        expect(ids(await store.conversations.listForMember(u.id, { activeSince: 5000 }, 'activity', { limit: 10 }))).toEqual([convs[2]!.id, convs[0]!.id]);
      });

      it('round-trips a retention policy and lists conversations whose retention ran out', async () => {
        const day = 86_400_000;
        // Far in the past, so conversations of other tests (created now) are never due.
        const base = 1_000 * day;
        const due = aConversation(newId('user'), { createdAt: base, retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 90 } });
        const later = aConversation(newId('user'), { createdAt: base + day, retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 90 } });
        const none = aConversation(newId('user'), { createdAt: base, retentionPolicy: { kind: 'none' } });
        for (const c of [due, later, none]) await store.conversations.insert(c);
        expect(await store.conversations.get(due.id)).toEqual(due);
        expect(await store.conversations.get(none.id)).toEqual(none);
        const at = base + 90 * day;
        expect(await store.conversations.listRetentionDue(at, 10)).toEqual([due.id]);
        expect(await store.conversations.listRetentionDue(at + day, 10)).toEqual([due.id, later.id]);
        expect(await store.conversations.listRetentionDue(at + day, 1)).toEqual([due.id]);
        await store.conversations.update(later.id, { retentionPolicy: null });
        await store.conversations.markDeleted(due.id, at);
        expect(await store.conversations.listRetentionDue(at + day, 10)).toEqual([]);
        expect((await store.conversations.get(later.id))?.retentionPolicy).toBeNull();
      });
    });

    describe('members', () => {
      it('keeps a member\'s display name in the conversation, shown instead of the user\'s', async () => {
        const u = aUser();
        await store.users.insert(u);
        const c = aConversation(u.id);
        await store.conversations.insert(c);
        await store.members.insert({ conversationId: c.id, userId: u.id, role: 'member', historyFrom: null, joinedAt: 1, nickname: 'Nick' });
        expect((await store.members.get(c.id, u.id))?.nickname).toBe('Nick');
        expect((await store.members.getView(c.id, u.id))?.displayName).toBe('Nick');
        expect((await store.members.listPage(c.id, { limit: 5 }))[0]?.displayName).toBe('Nick');
      });

      it('adds, reads with user fields, changes role, counts owners, pages and removes', async () => {
        const c = aConversation(newId('user'));
        await store.conversations.insert(c);
        const users = [aUser({ displayName: 'A' }), aUser({ displayName: 'B' }), aUser({ displayName: 'C', kind: 'bot' })];
        for (const [i, u] of users.entries()) {
          await store.users.insert(u);
          await store.members.insert({ conversationId: c.id, userId: u.id, role: i === 0 ? 'owner' : 'member', historyFrom: i === 2 ? 99 : null, joinedAt: 100 + i });
        }
        expect(await store.members.getView(c.id, users[2]!.id)).toMatchObject({ role: 'member', historyFrom: 99, displayName: 'C', kind: 'bot', handle: users[2]!.handle });
        expect(await store.members.countOwners(c.id)).toBe(1);
        await store.members.setRole(c.id, users[1]!.id, 'owner');
        expect(await store.members.countOwners(c.id)).toBe(2);
        const page1 = await store.members.listPage(c.id, { limit: 2 });
        const page2 = await store.members.listPage(c.id, { limit: 2, after: [page1[1]!.joinedAt, page1[1]!.userId] });
        expect([...page1, ...page2].map((m) => m.userId)).toEqual(users.map((u) => u.id));
        expect((await store.members.listPage(c.id, { limit: 1, skip: 2 }))[0]!.userId).toBe(users[2]!.id);
        expect(await store.members.listUserIds(c.id)).toEqual(users.map((u) => u.id).sort());
        expect(await store.members.listConversationIds(users[0]!.id)).toEqual([c.id]);
        const dup = await store.members.insert({ conversationId: c.id, userId: users[0]!.id, role: 'member', historyFrom: null, joinedAt: 1 }).catch((e: unknown) => e);
        expect(isStoreConflict(dup)).toBe(true);
        expect(await store.members.markRead(c.id, users[1]!.id, { seq: 5, messageId: newId('message'), at: 7 })).toBe(true);
        expect(await store.members.markRead(c.id, users[1]!.id, { seq: 3, messageId: newId('message'), at: 8 })).toBe(false);
        expect(await store.members.get(c.id, users[1]!.id)).toMatchObject({ lastReadSeq: 5, lastReadAt: 7 });
        expect((await store.members.listReceipts(c.id, { limit: 10 })).map((m) => m.userId)).toEqual([users[1]!.id]);
        const memberships = await store.members.listMemberships(users[2]!.id);
        expect(memberships).toEqual([{ conversationId: c.id, historyFrom: 99, joinedAt: 102, lastSeq: 0 }]);
        expect(await store.members.remove(c.id, users[0]!.id)).toBe(true);
        expect(await store.members.get(c.id, users[0]!.id)).toBeUndefined();
      });
    });

    describe('messages and events', () => {
      it('appends a message with its event under the next seqs, in one step (appendWithEvent)', async () => {
        const alice = aUser();
        await store.users.insert(alice);
        const c = aConversation(alice.id);
        await store.conversations.insert(c);
        await store.members.insert({ conversationId: c.id, userId: alice.id, role: 'owner', historyFrom: null, joinedAt: 1 });
        await store.transaction((tx) => tx.conversations.nextSeq(c.id, false, 10)); // an event before: seqs part
        const append = (content: string, at: number) => {
          const { seq: _seq, ...message } = aMessage(c, 0, alice.id, { content, createdAt: at });
          const event = {
            id: newId('event'), conversationId: c.id, type: 'message.created' as const, actorId: alice.id, createdAt: at,
            messageId: message.id, visibleTo: null, authorId: alice.id, historyAt: at,
          };
          return { message, event, data: ['{"message":{"seq":', `,"content":${JSON.stringify(content)}}}`] as const };
        };
        const first = append('zebra crossing', 2000);
        expect(await store.transaction((tx) => tx.messages.appendWithEvent(first))).toEqual({ seq: 2, messageSeq: 1 });
        const second = append('', 3000); // no words: no search entry
        expect(await store.messages.appendWithEvent(second)).toEqual({ seq: 3, messageSeq: 2 });
        expect(await store.messages.get(c.id, first.message.id)).toEqual({ ...first.message, seq: 1 });
        expect(await store.messages.get(c.id, second.message.id)).toEqual({ ...second.message, seq: 2 });
        const events = await store.events.listAfter(c.id, { afterSeq: 1, limit: 10, viewer: null });
        expect(events).toEqual([
          { ...first.event, seq: 2, data: '{"message":{"seq":1,"content":"zebra crossing"}}' },
          { ...second.event, seq: 3, data: '{"message":{"seq":2,"content":""}}' },
        ]);
        expect(await store.conversations.get(c.id)).toMatchObject({ lastSeq: 3, lastMessageSeq: 2, lastActivityAt: 3000 });
        const hits = await store.search.searchMessages({
          text: parseQuery('zebra'), viewer: alice.id, conversationId: c.id, sort: 'newest', page: { limit: 10 },
        });
        expect(hits.map((h) => h.message.id)).toEqual([first.message.id]);
        const missing = append('x', 4000);
        const nowhere = { ...missing, message: { ...missing.message, conversationId: newId('conversation') } };
        await expect(store.messages.appendWithEvent(nowhere)).rejects.toThrow('No conversation');
      });

      it('reads a conversation with a member in one step (getWithMember)', async () => {
        const u = aUser();
        await store.users.insert(u);
        const c = aConversation(u.id);
        await store.conversations.insert(c);
        await store.members.insert({ conversationId: c.id, userId: u.id, role: 'owner', historyFrom: 5, joinedAt: 7, nickname: 'N' });
        await store.members.markRead(c.id, u.id, { seq: 2, messageId: newId('message'), at: 9 });
        expect(await store.conversations.getWithMember(c.id, u.id)).toEqual({
          conversation: await store.conversations.get(c.id),
          member: await store.members.get(c.id, u.id),
        });
        expect(await store.conversations.getWithMember(c.id, newId('user'))).toEqual({ conversation: c, member: undefined });
        expect(await store.conversations.getWithMember(newId('conversation'), u.id)).toBeUndefined();
        await store.conversations.markDeleted(c.id, 10);
        expect(await store.conversations.getWithMember(c.id, u.id)).toBeUndefined();
      });

      it('appends, reads, updates and pages messages with visibility', async () => {
        const c = aConversation(newId('user'));
        await store.conversations.insert(c);
        const alice = newId('user');
        const bob = newId('user');
        const msgs = [
          aMessage(c, 1, alice, { createdAt: 1000, metadata: { a: '1' }, share: { title: 't', url: 'https://x.test' } }),
          aMessage(c, 2, alice, { createdAt: 2000, visibleTo: bob }),
          aMessage(c, 3, bob, { createdAt: 3000, system: { event: 'member.added', actorId: alice, userIds: [bob] }, type: 'system' }),
          aMessage(c, 4, alice, { createdAt: 4000 }),
        ];
        for (const m of msgs) await store.messages.append(m);
        expect(await store.messages.get(c.id, msgs[0]!.id)).toEqual(msgs[0]);
        expect(await store.messages.get(newId('conversation'), msgs[0]!.id)).toBeUndefined();
        const seqs = async (q: Partial<Parameters<Store['messages']['listPage']>[1]>, viewer: UserId) =>
          (await store.messages.listPage(c.id, { order: 'asc', limit: 10, viewer: { userId: viewer, historyFrom: null }, ...q })).map((m) => m.seq);
        const carol = newId('user');
        expect(await seqs({}, carol)).toEqual([1, 3, 4]);
        expect(await seqs({}, bob)).toEqual([1, 2, 3, 4]);
        expect(await seqs({}, alice)).toEqual([1, 2, 3, 4]);
        expect(await seqs({ order: 'desc', limit: 2 }, bob)).toEqual([4, 3]);
        expect(await seqs({ beforeSeq: 4, afterSeq: 1 }, bob)).toEqual([2, 3]);
        expect(await seqs({ startTime: 3000 }, bob)).toEqual([3, 4]);
        expect(
          (await store.messages.listPage(c.id, { order: 'asc', limit: 10, viewer: { userId: bob, historyFrom: 2500 } })).map((m) => m.seq),
        ).toEqual([3, 4]);
        expect(await store.messages.countUnread(c.id, { userId: bob, historyFrom: null }, 0)).toBe(3);
        expect(await store.messages.countUnread(c.id, { userId: carol, historyFrom: null }, 0)).toBe(2);
        expect(await store.messages.countUnread(c.id, { userId: bob, historyFrom: null }, 2)).toBe(1);
        expect(await store.messages.countUnread(c.id, { userId: alice, historyFrom: null }, 0)).toBe(0);
        await store.messages.update(msgs[3]!.id, { content: 'edited', version: 2, editedAt: 5000 });
        expect(await store.messages.get(c.id, msgs[3]!.id)).toMatchObject({ content: 'edited', version: 2, editedAt: 5000 });
        const dup = await store.messages.append({ ...aMessage(c, 4, alice) }).catch((e: unknown) => e);
        expect(isStoreConflict(dup)).toBe(true);
      });

      it('appends events, lists after a seq with visibility, rewrites message snapshots', async () => {
        const c = aConversation(newId('user'));
        await store.conversations.insert(c);
        const bob = newId('user');
        const msgId = newId('message');
        const event = (seq: number, over: Partial<EventRecord> = {}): EventRecord => ({
          id: newId('event'),
          conversationId: c.id,
          seq,
          type: 'message.created',
          actorId: null,
          createdAt: seq * 1000,
          data: `{"n":${seq}}`,
          messageId: null,
          visibleTo: null,
          authorId: null,
          historyAt: seq * 1000,
          ...over,
        });
        await store.events.append(event(1));
        await store.events.append(event(2, { messageId: msgId, visibleTo: newId('user') }));
        await store.events.append(event(3, { messageId: msgId }));
        await store.events.append(event(4, { historyAt: 500 }));
        const author = newId('user');
        await store.events.append(event(5, { visibleTo: newId('user'), actorId: newId('user'), authorId: author }));
        expect((await store.events.listAfter(c.id, { afterSeq: 4, limit: 10, viewer: { userId: author, historyFrom: null } })).map((e) => e.seq)).toEqual([5]);
        expect((await store.events.listAfter(c.id, { afterSeq: 4, limit: 10, viewer: { userId: bob, historyFrom: null } }))).toEqual([]);
        const list = async (after: number, viewer: UserId, historyFrom: number | null = null) =>
          (await store.events.listAfter(c.id, { afterSeq: after, limit: 10, viewer: { userId: viewer, historyFrom } })).map((e) => e.seq);
        expect(await list(0, bob)).toEqual([1, 3, 4]);
        expect(await list(1, bob)).toEqual([3, 4]);
        expect(await list(0, bob, 2500)).toEqual([3]);
        const unfiltered = await store.events.listAfter(c.id, { afterSeq: 0, limit: 10, viewer: null });
        expect(unfiltered.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
        expect((await store.events.listAfter(c.id, { afterSeq: 1, limit: 10, viewer: null, uptoSeq: 3 })).map((e) => e.seq)).toEqual([2, 3]);
        expect((await store.events.listAfter(c.id, { afterSeq: 0, limit: 10, viewer: null, sinceTime: 3000 })).map((e) => e.seq)).toEqual([3, 4, 5]);
        await store.events.rewriteMessageData(msgId, '{"scrubbed":true}');
        const all = await store.events.listAfter(c.id, { afterSeq: 0, limit: 10, viewer: { userId: bob, historyFrom: null } });
        expect(all.find((e) => e.seq === 3)!.data).toBe('{"scrubbed":true}');
        expect(all.find((e) => e.seq === 1)!.data).toBe('{"n":1}');
        const dup = await store.events.append(event(3)).catch((e: unknown) => e);
        expect(isStoreConflict(dup)).toBe(true);
      });
    });

    describe('idempotency keys', () => {
      it('stores one result per user, scope and key', async () => {
        const u = newId('user');
        const rec = { userId: u, scope: 's', key: 'k', requestHash: 'h', resultId: 'r', createdAt: 1 };
        await store.idempotency.insert(rec);
        expect(await store.idempotency.get(u, 's', 'k')).toEqual(rec);
        expect(await store.idempotency.get(u, 'other', 'k')).toBeUndefined();
        const dup = await store.idempotency.insert({ ...rec, resultId: 'r2' }).catch((e: unknown) => e);
        expect(isStoreConflict(dup)).toBe(true);
        await store.idempotency.insert({ ...rec, key: 'recent', createdAt: 10_000 });
        expect(await store.idempotency.deleteOlderThan(5_000)).toBeGreaterThanOrEqual(1);
        expect(await store.idempotency.get(u, 's', 'k')).toBeUndefined();
        expect(await store.idempotency.get(u, 's', 'recent')).toBeDefined();
      });
    });

    describe('transactions', () => {
      it('commits together and rolls back together', async () => {
        const a = aUser();
        const b = aUser();
        await store.transaction(async (tx) => {
          await tx.users.insert(a);
          await tx.users.insert(b);
        });
        expect(await store.users.get(b.id)).toBeDefined();
        const c = aUser();
        await expect(
          store.transaction(async (tx) => {
            await tx.users.insert(c);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.users.get(c.id)).toBeUndefined();
      });

      it('joins nested transactions into the outer one', async () => {
        const a = aUser();
        await expect(
          store.transaction(async (tx) => {
            await tx.transaction(async (inner) => inner.users.insert(a));
            throw new Error('outer fails');
          }),
        ).rejects.toThrow('outer fails');
        expect(await store.users.get(a.id)).toBeUndefined();
      });

      it('migrating again is a no-op', async () => {
        await store.migrate();
        expect(await store.users.get(newId('user'))).toBeUndefined();
      });
    });
  });
}
