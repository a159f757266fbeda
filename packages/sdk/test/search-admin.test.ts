import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPaging, rejection } from './helpers/assertions.js';
import { collect, startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const impls = await storeImpls();

for (const impl of impls) {
  describe(`${impl.name}: search and admin`, () => {
    let t: TestServer;
    let alice: TestUser;
    let bob: TestUser;
    let ada: TestUser;
    /** A word no other test uses, so results are exactly what this file made. */
    const word = `zq${Date.now().toString(36)}`;
    let rooms: string[];
    beforeAll(async () => {
      t = await startTestServer(impl);
      [alice, bob] = await Promise.all([t.user(), t.user()]);
      ada = await t.user({ admin: true, displayName: 'Ada' });
      rooms = [];
      for (let i = 0; i < 4; i += 1) {
        const { conversation } = await alice.client.createRoom({
          title: `${word} room ${i}`,
          keywords: i % 2 === 0 ? ['even', 'ux'] : ['odd'],
          public: i < 3,
          discoverable: true,
        });
        rooms.push(conversation.id);
      }
    });
    afterAll(() => t.close());

    it('searchRooms: by text and filters, ranked, paged; private rooms only for their members and admins', async () => {
      const mine = (await collect(alice.client.searchRooms({ query: word, sort: 'created' }))).map((h) => h.room.id);
      expect(mine).toEqual([...rooms].reverse());
      await checkPaging(() => alice.client.searchRooms({ query: word, sort: 'created' }), (h) => h.room.id, mine);
      const hits = await collect(alice.client.searchRooms({ query: word }));
      expect(hits.every((h) => h.score > 0)).toBe(true);
      // Bob finds the public rooms only; an admin credential finds all.
      expect((await collect(bob.client.searchRooms({ query: word }))).map((h) => h.room.id).sort()).toEqual(rooms.slice(0, 3).sort());
      expect(await collect(t.admin.searchRooms({ query: word }))).toHaveLength(4);
      // labels repeat the query parameter: every label must hold.
      expect((await collect(alice.client.searchRooms({ query: word, labels: ['even', 'ux'], sort: 'created' }))).map((h) => h.room.id)).toEqual([rooms[2], rooms[0]]);
      expect((await collect(alice.client.searchRooms({ query: word, public: false }))).map((h) => h.room.id)).toEqual([rooms[3]]);
      expect(await collect(alice.client.searchRooms({ query: `${word} -room` }))).toEqual([]);
      const owned = await collect(alice.client.searchRooms({ owner: 'me', createdSince: new Date(Date.now() - 3_600_000), maxItems: 2 }));
      expect(owned).toHaveLength(2);
      const tooLong = await rejection(alice.client.searchRooms({ query: 'x'.repeat(300) }).byPage().next());
      expect([tooLong.status, tooLong.code]).toEqual([400, 'bad_request']);
      expect((await rejection(t.client({}).searchRooms({ query: word }).byPage().next())).code).toBe('unauthenticated');
      const badToken = await rejection(alice.client.searchRooms({ query: word }).byPage({ continuationToken: 'garbage' }).next());
      expect([badToken.code, badToken.target]).toEqual(['bad_request', 'cursor']);
    });

    it('searchMessages: what the caller may read, with snippets, filtered and paged (the query travels with every page)', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Search me', members: [bob.user.id] });
      const conv = alice.client.conversation(conversation.id);
      const sent: string[] = [];
      for (let i = 0; i < 5; i += 1) sent.push((await conv.sendMessage(`deploy ${word} number ${i}`)).id);
      await bob.client.conversation(conversation.id).sendMessage(`bob says ${word}`);
      await conv.sendMessage(`secret ${word}`, { visibleTo: alice.user.id });

      const oldest = (await collect(bob.client.searchMessages(word, { conversationId: conversation.id, senderId: alice.user.id, sort: 'oldest' }))).map((h) => h.message.id);
      expect(oldest).toEqual(sent);
      await checkPaging(() => bob.client.searchMessages(word, { senderId: alice.user.id, sort: 'oldest' }), (h) => h.message.id, oldest);
      const [hit] = await collect(bob.client.searchMessages(`deploy ${word}`, { maxItems: 1 }));
      expect(hit!.conversation).toMatchObject({ id: conversation.id, kind: 'room', title: 'Search me' });
      const { text, highlights } = hit!.snippet;
      expect(highlights.map((h) => text.slice(h.start, h.end).toLowerCase())).toContain(word);
      // The per-conversation shortcut is the same search.
      expect((await collect(conv.searchMessages(word, { sort: 'oldest' }))).map((h) => h.message.id)).toHaveLength(7);
      expect(await collect(bob.client.searchMessages(word, { since: new Date(Date.now() + 60_000) }))).toEqual([]);
      const outsider = await t.user();
      const refused = await rejection(outsider.client.searchMessages(word, { conversationId: conversation.id }).byPage().next());
      expect([refused.status, refused.code]).toEqual([404, 'not_found']);
      expect((await rejection(bob.client.searchMessages('').byPage().next())).code).toBe('bad_request');
    });

    it('listAllConversations (admin): every conversation, filtered, sorted, paged', async () => {
      const creator = await t.user();
      const made = [
        (await creator.client.createRoom({ title: 'Big room', members: [alice.user.id, bob.user.id] })).conversation.id,
        (await creator.client.createGroupConversation([alice.user.id, bob.user.id, ada.user.id])).conversation.id,
        (await creator.client.createDirectConversation(bob.user.id)).conversation.id,
        (await creator.client.createRoom({ title: 'Quiet room' })).conversation.id,
      ];
      await creator.client.deactivateConversation(made[3]!);
      const all = await collect(t.admin.listAllConversations({ creator: creator.user.id }));
      expect(all.map((c) => c.id)).toEqual(made);
      expect(all[0]).toMatchObject({ kind: 'room', memberCount: 3, createdBy: creator.user.id });
      expect(all[0]).not.toHaveProperty('myRole');
      await checkPaging(() => t.admin.listAllConversations({ creator: creator.user.id }), (c) => c.id, made);
      const ids = async (options: Parameters<typeof t.admin.listAllConversations>[0]) =>
        (await collect(t.admin.listAllConversations({ creator: creator.user.id, ...options }))).map((c) => c.id);
      expect(await ids({ kind: 'room' })).toEqual([made[0], made[3]]);
      expect(await ids({ kind: ['group', 'direct'] })).toEqual([made[1], made[2]]);
      expect(await ids({ active: false })).toEqual([made[3]]);
      expect(await ids({ minMembers: 3 })).toEqual([made[0], made[1]]);
      expect(await ids({ sort: 'members', order: 'desc', maxMembers: 3 })).toEqual([made[0], made[2], made[3]]);
      expect(await ids({ createdSince: new Date(Date.now() + 60_000) })).toEqual([]);
      expect(await ids({ skip: 2 })).toEqual(made.slice(2));
      // An admin user's token with the admin scope works too; a chat user's does not.
      expect(await collect(ada.client.listAllConversations({ creator: creator.user.id }))).toHaveLength(4);
      const forbidden = await rejection(alice.client.listAllConversations().byPage().next());
      expect([forbidden.status, forbidden.code]).toEqual([403, 'forbidden']);
      expect((await rejection(t.client({}).listAllConversations().byPage().next())).code).toBe('unauthenticated');
    });

    it('listMembers({ asAdmin }) and (de)activation asAdmin: rooms the admin is not in', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Closable', members: [bob.user.id] });
      // The member list refuses an admin who is not a member; the admin list does not.
      const asMember = await rejection(t.admin.conversation(conversation.id).listMembers().byPage().next());
      expect(asMember.code).toBe('forbidden');
      const members = (await collect(t.admin.conversation(conversation.id).listMembers({ asAdmin: true }))).map((m) => m.userId);
      expect(members.sort()).toEqual([alice.user.id, bob.user.id].sort());
      await checkPaging(() => t.admin.conversation(conversation.id).listMembers({ asAdmin: true }), (m) => m.userId, (await collect(t.admin.conversation(conversation.id).listMembers({ asAdmin: true }))).map((m) => m.userId));

      expect((await t.admin.deactivateConversation(conversation.id, { asAdmin: true })).active).toBe(false);
      expect((await rejection(bob.client.conversation(conversation.id).sendMessage('hello?'))).code).toBe('conflict');
      expect((await ada.client.conversation(conversation.id).reactivate({ asAdmin: true })).active).toBe(true);
      const notAdmin = await rejection(bob.client.deactivateConversation(conversation.id, { asAdmin: true }));
      expect([notAdmin.status, notAdmin.code]).toEqual([403, 'forbidden']);
      const { conversation: group } = await alice.client.createGroupConversation([bob.user.id]);
      expect((await rejection(t.admin.deactivateConversation(group.id, { asAdmin: true }))).code).toBe('conflict');
      expect((await rejection(t.admin.deactivateConversation('cnv_nothing', { asAdmin: true }))).code).toBe('not_found');

      const entries = await collect(t.admin.listAuditLog({ targetId: conversation.id }));
      expect(entries.map((e) => e.action)).toEqual(['conversation.reactivated', 'conversation.deactivated']);
      expect(entries[0]).toMatchObject({ actorId: ada.user.id, actorName: 'Ada', targetType: 'conversation' });
    });

    it('listAuditLog (admin): filtered by actor, action family, target type and time; paged', async () => {
      const actor = await t.user({ admin: true });
      const targets = await Promise.all(Array.from({ length: 3 }, () => t.user()));
      for (const u of targets) await actor.client.updateUser(u.user.id, { description: 'audited' });
      await actor.client.createUserToken(targets[0]!.user.id);
      const all = await collect(t.admin.listAuditLog({ actorId: actor.user.id }));
      expect(all.map((e) => e.action)).toEqual(['token.issued', 'user.updated', 'user.updated', 'user.updated']);
      await checkPaging(() => t.admin.listAuditLog({ actorId: actor.user.id }), (e) => e.id, all.map((e) => e.id));
      expect(await collect(t.admin.listAuditLog({ actorId: actor.user.id, action: 'user.*' }))).toHaveLength(3);
      expect(await collect(t.admin.listAuditLog({ actorId: actor.user.id, targetType: 'conversation' }))).toEqual([]);
      const before = await collect(t.admin.listAuditLog({ actorId: actor.user.id, until: all[0]!.at }));
      expect(before.every((e) => e.at < all[0]!.at)).toBe(true);
      expect(await collect(t.admin.listAuditLog({ actorId: actor.user.id, since: new Date(Date.now() + 60_000) }))).toEqual([]);
      const bad = await rejection(t.admin.listAuditLog({ action: 'not an action' }).byPage().next());
      expect([bad.status, bad.code]).toEqual([400, 'bad_request']);
      expect((await rejection(alice.client.listAuditLog().byPage().next())).code).toBe('forbidden');
    });
  });
}
