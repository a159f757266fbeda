import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pagedIterable } from '@parley/sdk';
import { checkPaging } from './helpers/assertions.js';
import { collect, startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const impls = await storeImpls();

describe('pagedIterable', () => {
  const source = Array.from({ length: 7 }, (_, i) => i);
  const list = (maxItems?: number) =>
    pagedIterable<number>(
      async ({ continuationToken, maxPageSize }) => {
        const from = continuationToken === undefined ? 0 : Number(continuationToken);
        const items = source.slice(from, from + (maxPageSize ?? 3));
        const next = from + items.length;
        return { items, continuationToken: next < source.length ? String(next) : undefined };
      },
      { maxItems },
    );

  it('walks items and pages alike, and resumes from a token', async () => {
    await checkPaging(() => list(), String, source.map(String));
  });

  it('maxItems caps items over every page, and asks for no more than it needs', async () => {
    expect(await collect(list(4))).toEqual([0, 1, 2, 3]);
    const pages = await collect(list(4).byPage({ maxPageSize: 3 }));
    expect(pages.map((p) => p.items)).toEqual([[0, 1, 2], [3]]);
    expect(pages[1]!.continuationToken).toBe('4');
    expect(await collect(list(0))).toEqual([]);
  });

  it('refuses nonsense sizes', async () => {
    expect(() => list(-1)).toThrow(RangeError);
    await expect(collect(list().byPage({ maxPageSize: 0 }))).rejects.toThrow(RangeError);
  });
});

for (const impl of impls) {
  describe(`${impl.name}: every list pages alike`, () => {
    let t: TestServer;
    let alice: TestUser;
    let members: TestUser[];
    let conversationId: string;
    const messageIds: string[] = [];
    const roomIds: string[] = [];
    beforeAll(async () => {
      t = await startTestServer(impl);
      alice = await t.user();
      members = await Promise.all([t.user(), t.user(), t.user(), t.user()]);
      const { conversation } = await alice.client.createRoom({ title: 'Paging', members: members.map((m) => m.user.id) });
      conversationId = conversation.id;
      roomIds.push(conversationId);
      for (let i = 0; i < 6; i += 1) messageIds.push((await alice.client.conversation(conversationId).sendMessage(`m${i}`)).id);
      for (let i = 0; i < 4; i += 1) roomIds.push((await alice.client.createRoom({ title: `R${i}` })).conversation.id);
      for (const m of members) await m.client.conversation(conversationId).sendReadReceipt();
    });
    afterAll(() => t.close());

    it('listMessages (asc, desc)', async () => {
      const conv = alice.client.conversation(conversationId);
      const asc = (await collect(conv.listMessages({ order: 'asc' }))).map((m) => m.id);
      expect(asc.slice(-6)).toEqual(messageIds);
      await checkPaging(() => conv.listMessages({ order: 'asc' }), (m) => m.id, asc);
      await checkPaging(() => conv.listMessages(), (m) => m.id, [...asc].reverse());
    });

    it('listMessages with maxItems (Symphony max_number)', async () => {
      const conv = alice.client.conversation(conversationId);
      const first = await collect(conv.listMessages({ order: 'asc', maxItems: 3, maxPageSize: 2 }));
      expect(first).toHaveLength(3);
    });

    it('listConversations', async () => {
      await checkPaging(() => alice.client.listConversations(), (c) => c.id, roomIds);
    });

    it('listMembers', async () => {
      const ids = (await collect(alice.client.conversation(conversationId).listMembers())).map((m) => m.userId);
      expect(ids.sort()).toEqual([alice, ...members].map((m) => m.user.id).sort());
      await checkPaging(() => alice.client.conversation(conversationId).listMembers(), (m) => m.userId, (await collect(alice.client.conversation(conversationId).listMembers())).map((m) => m.userId));
    });

    it('listReadReceipts', async () => {
      const all = (await collect(alice.client.conversation(conversationId).listReadReceipts())).map((r) => r.userId);
      expect(all.sort()).toEqual(members.map((m) => m.user.id).sort());
      const ordered = (await collect(alice.client.conversation(conversationId).listReadReceipts())).map((r) => r.userId);
      await checkPaging(() => alice.client.conversation(conversationId).listReadReceipts(), (r) => r.userId, ordered);
    });

    it('listEvents', async () => {
      const seqs = (await collect(alice.client.conversation(conversationId).listEvents())).map((e) => String(e.seq));
      expect(seqs).toEqual(seqs.map((_, i) => String(i + 1)));
      await checkPaging(() => alice.client.conversation(conversationId).listEvents(), (e) => String(e.seq), seqs);
    });

    it('listUsers', async () => {
      const ids = (await collect(t.admin.listUsers({ kind: 'human' }))).map((u) => u.id);
      expect(ids).toEqual(expect.arrayContaining([alice.user.id, ...members.map((m) => m.user.id)]));
      await checkPaging(() => t.admin.listUsers({ kind: 'human' }), (u) => u.id, ids);
    });

    it('a continuation token from the server is opaque and checked', async () => {
      const pages = alice.client.conversation(conversationId).listMessages().byPage({ continuationToken: 'not-a-token' });
      await expect(pages.next()).rejects.toMatchObject({ code: 'bad_request', target: 'cursor' });
    });
  });
}
