import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyClient } from '@parley/sdk';
import { checkPaging, rejection } from './helpers/assertions.js';
import { collect, startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const impls = await storeImpls();

for (const impl of impls) {
  describe(`${impl.name}: groups`, () => {
    let t: TestServer;
    let owner: TestUser;
    let friend: TestUser;
    let outsider: TestUser;
    let bot: ParleyClient;
    let botId: string;
    beforeAll(async () => {
      t = await startTestServer(impl);
      [owner, friend, outsider] = await Promise.all([t.user(), t.user(), t.user()]);
      const created = await t.admin.createUser({ kind: 'bot', handle: `grpbot${Date.now().toString(36)}` });
      botId = created.user.id;
      bot = t.client({ apiKey: created.apiKey! });
    });
    afterAll(() => t.close());

    const memberIds = async (client: ParleyClient, conversationId: string) =>
      (await collect(client.conversation(conversationId).listMembers())).map((m) => m.userId).sort();

    it('createGroup, getGroup, updateGroup, deleteGroup: private by default, failures per initial member', async () => {
      const { group, failures } = await owner.client.createGroup({ name: 'Friends', description: 'close ones', members: [friend.user.id, 'usr_ghost'] });
      expect(group).toMatchObject({ name: 'Friends', description: 'close ones', visibility: 'private', ownerId: owner.user.id, memberCount: 1, isMember: false });
      expect(failures.map((f) => [f.userId, f.error.code])).toEqual([['usr_ghost', 'not_found']]);
      expect((await friend.client.getGroup(group.id)).isMember).toBe(true);
      // A private group is hidden from everyone else, as if it did not exist; admins see it.
      expect((await rejection(outsider.client.getGroup(group.id))).code).toBe('not_found');
      expect((await t.admin.getGroup(group.id)).id).toBe(group.id);

      const renamed = await owner.client.updateGroup(group.id, { name: 'Circle', visibility: 'public' });
      expect(renamed).toMatchObject({ name: 'Circle', visibility: 'public' });
      expect((await outsider.client.getGroup(group.id)).name).toBe('Circle');
      const notOwner = await rejection(friend.client.updateGroup(group.id, { name: 'Mine now' }));
      expect([notOwner.status, notOwner.code]).toEqual([403, 'forbidden']);
      const empty = await rejection(owner.client.updateGroup(group.id, {}));
      expect([empty.status, empty.code]).toEqual([400, 'bad_request']);

      expect((await rejection(friend.client.deleteGroup(group.id))).code).toBe('forbidden');
      await owner.client.deleteGroup(group.id);
      expect((await rejection(owner.client.getGroup(group.id))).code).toBe('not_found');
      expect((await rejection(owner.client.deleteGroup(group.id))).code).toBe('not_found');
    });

    it('refuses bad input and missing credentials with the standard error', async () => {
      const bad = await rejection(owner.client.createGroup({ name: '' }));
      expect([bad.status, bad.code]).toEqual([400, 'bad_request']);
      const anonymous = t.client({});
      const unauthenticated = await rejection(anonymous.createGroup({ name: 'x' }));
      expect([unauthenticated.status, unauthenticated.code]).toEqual([401, 'unauthenticated']);
      expect((await rejection(owner.client.getGroup('grp_ghost'))).code).toBe('not_found');
    });

    it('addGroupMembers, listGroupMembers (paged), removeGroupMember, leaving with `me`', async () => {
      const others = await Promise.all([t.user(), t.user(), t.user(), t.user()]);
      const { group } = await owner.client.createGroup({ name: 'Team', members: [friend.user.id] });
      const { added, failures } = await owner.client.addGroupMembers(group.id, [...others.map((o) => o.user.id), friend.user.id, 'usr_ghost']);
      // Existing members are left as they are, not reported again.
      expect(added.map((m) => m.userId).sort()).toEqual(others.map((o) => o.user.id).sort());
      expect(failures.map((f) => [f.userId, f.error.code])).toEqual([['usr_ghost', 'not_found']]);

      const all = (await collect(friend.client.listGroupMembers(group.id))).map((m) => m.userId);
      expect([...all].sort()).toEqual([friend.user.id, ...others.map((o) => o.user.id)].sort());
      await checkPaging(() => friend.client.listGroupMembers(group.id), (m) => m.userId, all);
      expect((await collect(friend.client.listGroupMembers(group.id, { skip: 2 }))).map((m) => m.userId)).toEqual(all.slice(2));
      const badToken = friend.client.listGroupMembers(group.id).byPage({ continuationToken: 'garbage' });
      await expect(badToken.next()).rejects.toMatchObject({ code: 'bad_request', target: 'cursor' });

      expect((await rejection(friend.client.addGroupMembers(group.id, [outsider.user.id]))).code).toBe('forbidden');
      expect((await rejection(friend.client.removeGroupMember(group.id, others[0]!.user.id))).code).toBe('forbidden');
      await owner.client.removeGroupMember(group.id, others[0]!.user.id);
      expect((await rejection(owner.client.removeGroupMember(group.id, others[0]!.user.id))).code).toBe('not_found');
      await friend.client.removeGroupMember(group.id, 'me');
      expect((await rejection(friend.client.getGroup(group.id))).code).toBe('not_found');
      expect((await rejection(outsider.client.listGroupMembers(group.id).byPage().next())).code).toBe('not_found');
    });

    it('listGroups: what the caller may see, filtered by visibility, name and membership, paged; admins see all', async () => {
      const viewer = await t.user();
      const names = ['L1', 'L2', 'L3', 'L4'].map((n) => `${n}-${viewer.user.id}`);
      const ids: string[] = [];
      for (const [i, name] of names.entries()) {
        const visibility = i % 2 === 0 ? 'public' : 'private';
        ids.push((await viewer.client.createGroup({ name, visibility })).group.id);
      }
      const mine = (await collect(viewer.client.listGroups({ mine: true }))).map((g) => g.id);
      expect(mine).toEqual(ids);
      await checkPaging(() => viewer.client.listGroups({ mine: true }), (g) => g.id, ids);
      expect((await collect(viewer.client.listGroups({ mine: true, visibility: 'private' }))).map((g) => g.id)).toEqual([ids[1], ids[3]]);
      expect((await collect(outsider.client.listGroups({ name: names[0]! }))).map((g) => g.id)).toEqual([ids[0]]);
      // Another user's private group is not listed for others, but is for admins.
      expect(await collect(outsider.client.listGroups({ name: names[1]! }))).toEqual([]);
      expect((await collect(t.admin.listGroups({ name: names[1]! }))).map((g) => g.id)).toEqual([ids[1]]);
      const tooBig = await rejection(viewer.client.listGroups({ maxPageSize: 100_000 }).byPage().next());
      expect(tooBig.code).toBe('limit_exceeded');
    });

    it('adds a group\'s current members when creating a room and with addMembers({ groups })', async () => {
      const [a, b, c] = await Promise.all([t.user(), t.user(), t.user()]);
      const { group: g1 } = await owner.client.createGroup({ name: 'G1', members: [a.user.id, b.user.id] });
      const { group: g2 } = await owner.client.createGroup({ name: 'G2', visibility: 'public', members: [b.user.id, c.user.id] });
      const { conversation } = await owner.client.createRoom({ title: 'From groups', groups: [g1.id] });
      expect(await memberIds(owner.client, conversation.id)).toEqual([owner.user.id, a.user.id, b.user.id].sort());
      const { added } = await owner.client.conversation(conversation.id).addMembers([], { groups: [g2.id] });
      expect(added.map((m) => m.userId)).toEqual([c.user.id]);
      const both = await owner.client.conversation(conversation.id).addMembers([outsider.user.id], { groups: [g1.id] });
      expect(both.added.map((m) => m.userId)).toEqual([outsider.user.id]);
      const ghost = await rejection(owner.client.createRoom({ title: 'x', groups: ['grp_ghost'] }));
      expect([ghost.code, ghost.target]).toEqual(['not_found', 'groups[0]']);
    });

    it('bots use public groups only (Teamwire), and create public ones', async () => {
      const { group: pub } = await owner.client.createGroup({ name: 'Public', visibility: 'public', members: [friend.user.id] });
      const { group: priv } = await owner.client.createGroup({ name: 'Private', members: [outsider.user.id, botId] });
      const { conversation } = await bot.createRoom({ title: 'Bot room', groups: [pub.id] });
      expect(await memberIds(bot, conversation.id)).toEqual([botId, friend.user.id].sort());
      const refused = await rejection(bot.createRoom({ title: 'No', groups: [priv.id] }));
      expect([refused.status, refused.code, refused.target]).toEqual([403, 'forbidden', 'groups[0]']);
      const refusedAdd = await rejection(bot.conversation(conversation.id).addMembers([], { groups: [priv.id] }));
      expect([refusedAdd.code, refusedAdd.target]).toEqual(['forbidden', 'groups[0]']);
      expect((await rejection(bot.createGroup({ name: 'Mine', visibility: 'private' }))).code).toBe('forbidden');
      expect((await bot.createGroup({ name: 'Bot circle' })).group.visibility).toBe('public');
    });
  });
}
