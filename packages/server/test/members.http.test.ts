import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();

describe.each(STORES)('$name: members over HTTP', (impl) => {
  let t: TestServer;
  let owner: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  beforeAll(async () => {
    t = await startTestServer(impl);
    [owner, member, outsider] = await Promise.all([t.user(), t.user(), t.user()]);
  });
  afterAll(() => t.close());

  const makeRoom = async (extra: Record<string, unknown> = {}) =>
    (await owner.api.post('/v1/conversations', { kind: 'room', title: 'Members', members: [member.user.id], ...extra })).body.conversation;

  describe('list', () => {
    it('pages with skip/limit and cursors, and reports the total', async () => {
      const others = await Promise.all(Array.from({ length: 5 }, () => t.user()));
      const c = await makeRoom();
      await owner.api.post(`/v1/conversations/${c.id}/members`, { members: others.map((o) => o.user.id) });
      const all = await member.api.get(`/v1/conversations/${c.id}/members?limit=1000`);
      expect(all.body.total).toBe(7);
      expect(all.body.items).toHaveLength(7);
      // Members who joined in the same instant (the creator and the initial members) are ordered by user id.
      expect(all.body.items.find((m: any) => m.userId === owner.user.id)).toMatchObject({ role: 'owner', kind: 'human', displayName: expect.any(String), handle: expect.any(String) });
      const ids = all.body.items.map((m: any) => m.userId);
      expect((await member.api.get(`/v1/conversations/${c.id}/members?skip=2&limit=3`)).body.items.map((m: any) => m.userId)).toEqual(ids.slice(2, 5));
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await member.api.get(`/v1/conversations/${c.id}/members?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.body.items.length).toBeLessThanOrEqual(3);
        walked.push(...page.body.items.map((m: any) => m.userId));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(walked).toEqual(ids);
      const tooBig = await member.api.get(`/v1/conversations/${c.id}/members?limit=1001`);
      expect([tooBig.status, tooBig.body.error.code]).toEqual([413, 'limit_exceeded']);
      expect((await outsider.api.get(`/v1/conversations/${c.id}/members`)).status).toBe(404);
      const one = await member.api.get(`/v1/conversations/${c.id}/members/${owner.user.id}`);
      expect(one.body.role).toBe('owner');
      expect((await member.api.get(`/v1/conversations/${c.id}/members/usr_nobody`)).status).toBe(404);
      const me = await member.api.get(`/v1/conversations/${c.id}/members/me`);
      expect(me.body.userId).toBe(member.user.id);
    });
  });

  describe('add', () => {
    it('adds many, leaves existing members as they are, and reports failures per participant', async () => {
      const [a, b, off] = await Promise.all([t.user(), t.user(), t.user()]);
      await t.admin.patch(`/v1/users/${off.user.id}`, { disabled: true });
      const c = await makeRoom();
      const res = await owner.api.post(`/v1/conversations/${c.id}/members`, {
        members: [a.user.id, { userId: b.user.id, role: 'owner' }, member.user.id, 'usr_ghost', off.user.id, a.user.id],
      });
      expect(res.status).toBe(200);
      expect(res.body.added.map((m: any) => [m.userId, m.role])).toEqual([[a.user.id, 'member'], [b.user.id, 'owner']]);
      expect(res.body.failures).toEqual([
        { userId: 'usr_ghost', error: { code: 'not_found', message: expect.any(String), target: 'members[3]' } },
        { userId: off.user.id, error: { code: 'forbidden', message: expect.any(String), target: 'members[4]' } },
      ]);
      const again = await owner.api.post(`/v1/conversations/${c.id}/members`, { members: [a.user.id] });
      expect(again.body).toEqual({ added: [], failures: [] });
      const conv = await owner.api.get(`/v1/conversations/${c.id}`);
      expect(conv.body.memberCount).toBe(4);
      const sys = (await a.api.get(`/v1/conversations/${c.id}/messages?limit=1`)).body.items[0];
      expect(sys.system).toMatchObject({ event: 'member.added', actorId: owner.user.id, userIds: [a.user.id, b.user.id] });
    });

    it('follows members-can-invite, refuses direct conversations, and validates the body', async () => {
      const x = await t.user();
      const closed = await makeRoom();
      const denied = await member.api.post(`/v1/conversations/${closed.id}/members`, { members: [x.user.id] });
      expect([denied.status, denied.body.error.code]).toEqual([403, 'forbidden']);
      const open = await makeRoom({ membersCanInvite: true });
      expect((await member.api.post(`/v1/conversations/${open.id}/members`, { members: [x.user.id] })).body.added).toHaveLength(1);
      const y = await t.user();
      const asOwner = await member.api.post(`/v1/conversations/${open.id}/members`, { members: [{ userId: y.user.id, role: 'owner' }] });
      expect(asOwner.body.failures[0].error.code).toBe('forbidden');
      expect((await outsider.api.post(`/v1/conversations/${open.id}/members`, { members: [y.user.id] })).status).toBe(404);
      const d = (await owner.api.post('/v1/conversations', { kind: 'direct', members: [member.user.id] })).body.conversation;
      const direct = await owner.api.post(`/v1/conversations/${d.id}/members`, { members: [x.user.id] });
      expect([direct.status, direct.body.error.code]).toEqual([409, 'conflict']);
      expect((await owner.api.post(`/v1/conversations/${open.id}/members`, { members: [] })).status).toBe(400);
      expect((await owner.api.post(`/v1/conversations/${open.id}/members`, { members: [{ userId: x.user.id, role: 'king' }] })).status).toBe(400);
      const tooMany = await owner.api.post(`/v1/conversations/${open.id}/members`, { members: Array.from({ length: 251 }, (_, i) => `usr_${i}`) });
      expect([tooMany.status, tooMany.body.error.code]).toEqual([413, 'limit_exceeded']);
    });

    it('lets an admin add members to a room it is not in', async () => {
      const x = await t.user();
      const c = await makeRoom();
      const res = await t.admin.post(`/v1/conversations/${c.id}/members`, { members: [x.user.id] });
      expect(res.body.added).toHaveLength(1);
    });

    it('keeps a group findable by its new member set', async () => {
      const [a, b, c] = await Promise.all([t.user(), t.user(), t.user()]);
      const g = (await a.api.post('/v1/conversations', { kind: 'group', members: [b.user.id] })).body.conversation;
      await a.api.post(`/v1/conversations/${g.id}/members`, { members: [c.user.id] });
      const same = await c.api.post('/v1/conversations', { kind: 'group', members: [a.user.id, b.user.id] });
      expect([same.status, same.body.conversation.id]).toEqual([200, g.id]);
      const old = await a.api.post('/v1/conversations', { kind: 'group', members: [b.user.id] });
      expect(old.status).toBe(201);
      expect(old.body.conversation.id).not.toBe(g.id);
    });
  });

  describe('remove, roles', () => {
    it('lets owners remove members and never the last owner', async () => {
      const x = await t.user();
      const c = await makeRoom({ members: [member.user.id, x.user.id] });
      expect((await member.api.delete(`/v1/conversations/${c.id}/members/${x.user.id}`)).status).toBe(403);
      expect((await owner.api.delete(`/v1/conversations/${c.id}/members/${x.user.id}`)).status).toBe(204);
      expect((await owner.api.delete(`/v1/conversations/${c.id}/members/${x.user.id}`)).status).toBe(404);
      expect((await x.api.get(`/v1/conversations/${c.id}/messages`)).status).toBe(404);
      const lastOwner = await t.admin.delete(`/v1/conversations/${c.id}/members/${owner.user.id}`);
      expect([lastOwner.status, lastOwner.body.error.code]).toEqual([409, 'conflict']);
      const events = (await owner.api.get(`/v1/conversations/${c.id}/events`)).body.items;
      expect(events.find((e: any) => e.type === 'member.removed').data).toMatchObject({ left: false, member: { userId: x.user.id } });
      expect((await member.api.delete(`/v1/conversations/${c.id}/members/me`)).status).toBe(204);
      expect((await owner.api.get(`/v1/conversations/${c.id}`)).body.memberCount).toBe(1);
    });

    it('promotes and demotes in rooms, keeping at least one owner', async () => {
      const c = await makeRoom();
      const promote = await owner.api.patch(`/v1/conversations/${c.id}/members/${member.user.id}`, { role: 'owner' });
      expect([promote.status, promote.body.role]).toEqual([200, 'owner']);
      expect((await member.api.patch(`/v1/conversations/${c.id}/members/${owner.user.id}`, { role: 'member' })).body.role).toBe('member');
      const last = await member.api.patch(`/v1/conversations/${c.id}/members/${member.user.id}`, { role: 'member' });
      expect([last.status, last.body.error.code]).toEqual([409, 'conflict']);
      const notOwner = await owner.api.patch(`/v1/conversations/${c.id}/members/${member.user.id}`, { role: 'member' });
      expect([notOwner.status, notOwner.body.error.code]).toEqual([403, 'forbidden']);
      expect((await member.api.patch(`/v1/conversations/${c.id}/members/usr_nobody`, { role: 'owner' })).status).toBe(404);
      expect((await member.api.patch(`/v1/conversations/${c.id}/members/${owner.user.id}`, { role: 'boss' })).status).toBe(400);
      const events = (await owner.api.get(`/v1/conversations/${c.id}/events`)).body.items.filter((e: any) => e.type === 'member.role_changed');
      expect(events.map((e: any) => [e.data.member.userId, e.data.member.role, e.data.previousRole])).toEqual([
        [member.user.id, 'owner', 'member'],
        [owner.user.id, 'member', 'owner'],
      ]);
      const g = (await owner.api.post('/v1/conversations', { kind: 'group', title: 'g', members: [member.user.id] })).body.conversation;
      expect((await owner.api.patch(`/v1/conversations/${g.id}/members/${member.user.id}`, { role: 'owner' })).status).toBe(409);
    });
  });
});
