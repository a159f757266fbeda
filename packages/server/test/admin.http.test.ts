import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, walkPages as walk } from './helpers/api-checks.js';
import { startTestServer, type Api, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();
const ADMIN_ID = 'usr_admin';

describe.each(STORES)('$name: admin over HTTP', (impl) => {
  let t: TestServer;
  let ada: TestUser; // an admin user with an admin-scoped token
  let owner: TestUser;
  let member: TestUser;
  beforeAll(async () => {
    t = await startTestServer(impl);
    [ada, owner, member] = await Promise.all([t.user({ admin: true, displayName: 'Ada' }), t.user(), t.user()]);
  });
  afterAll(() => t.close());

  /** The audit entries about one target, newest first. */
  const auditFor = async (targetId: string) => (await t.admin.get(`/v1/admin/audit-log?targetId=${targetId}`)).body.items as any[];

  describe('GET /v1/admin/conversations', () => {
    let creator: TestUser;
    let made: any[];
    beforeAll(async () => {
      creator = await t.user();
      const create = async (body: Record<string, unknown>) => {
        const res = await creator.api.post('/v1/conversations', body);
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return res.body.conversation;
      };
      made = [
        await create({ kind: 'room', title: 'Big room', members: [owner.user.id, member.user.id] }),
        await create({ kind: 'group', members: [owner.user.id, member.user.id, ada.user.id] }),
        await create({ kind: 'direct', members: [member.user.id] }),
        await create({ kind: 'room', title: 'Quiet room' }),
      ];
      await creator.api.post(`/v1/conversations/${made[3].id}/deactivate`);
    });
    const path = (query: string) => `/v1/admin/conversations?creator=${creator.user.id}&${query}`;
    const ids = async (query: string, api: Api = t.admin) => {
      const res = await api.get(path(query));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.items.map((c: any) => c.id);
    };

    it('lists every conversation of every kind, whoever is in it', async () => {
      const res = await t.admin.get(path(''));
      expect(res.body.items.map((c: any) => c.id)).toEqual(made.map((c) => c.id));
      expect(res.body.items[0]).toMatchObject({ kind: 'room', title: 'Big room', memberCount: 3, createdBy: creator.user.id });
      expect(res.body.items[0]).not.toHaveProperty('myRole');
      expect(await ids('', ada.api)).toHaveLength(4);
    });

    it('filters by kind, state, times and member count', async () => {
      expect(await ids('kind=room')).toEqual([made[0].id, made[3].id]);
      expect(await ids('kind=group&kind=direct')).toEqual([made[1].id, made[2].id]);
      expect(await ids('active=false')).toEqual([made[3].id]);
      expect(await ids('minMembers=3')).toEqual([made[0].id, made[1].id]);
      expect(await ids('maxMembers=2')).toEqual([made[2].id, made[3].id]);
      expect(await ids('minMembers=4&maxMembers=4')).toEqual([made[1].id]);
      const mid = made[1].createdAt;
      expect(await ids(`createdSince=${encodeURIComponent(mid)}`)).toEqual(made.slice(1).map((c) => c.id).filter((id) => made.find((c) => c.id === id).createdAt >= mid));
      expect(await ids(`createdUntil=${encodeURIComponent(made[0].createdAt)}`)).toEqual([]);
      const future = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
      expect(await ids(`updatedSince=${future}`)).toEqual([]);
      expect(await ids(`updatedUntil=${future}`)).toHaveLength(4);
    });

    it('sorts and pages: cursor pages and skip agree with the whole list', async () => {
      const byMembers = (await t.admin.get(path('sort=members&order=desc'))).body.items;
      expect(byMembers.map((c: any) => c.memberCount)).toEqual([4, 3, 2, 1]);
      for (const query of ['sort=created', 'sort=activity&order=desc', 'sort=updated', 'sort=members']) {
        const whole = await ids(query);
        expect((await walk(t.admin, path(query), 1)).map((c) => c.id)).toEqual(whole);
        expect(await ids(`${query}&skip=1&limit=2`)).toEqual(whole.slice(1, 3));
      }
    });

    it('answers 400, 401, 403 and 413 with the standard error body', async () => {
      expectError(await t.anon.get(path('')), 401, 'unauthenticated');
      expectError(await owner.api.get(path('')), 403, 'forbidden');
      const chatOnly = (await t.admin.post(`/v1/users/${ada.user.id}/tokens`, { scopes: ['chat'] })).body.token;
      expectError(await ada.api.as(chatOnly).get(path('')), 403, 'forbidden');
      expectError(await t.admin.get(path('kind=channel')), 400, 'bad_request', 'kind[0]');
      expectError(await t.admin.get(path('sort=size')), 400, 'bad_request', 'sort');
      expectError(await t.admin.get(path('minMembers=-1')), 400, 'bad_request', 'minMembers');
      expectError(await t.admin.get(path('minMembers=5&maxMembers=2')), 400, 'bad_request', 'minMembers');
      expectError(await t.admin.get(path('createdSince=now')), 400, 'bad_request', 'createdSince');
      expectError(await t.admin.get(path('cursor=zzz')), 400, 'bad_request', 'cursor');
      // A forged cursor is refused before it reaches the database.
      for (const forged of [{ k: [1, 'cnv_x'], p: { minMembers: 'x' } }, { k: [1, 'cnv_x'], p: { sort: 'size' } }, { k: ['a', 'b'], p: {} }, { k: [1, 'cnv_x'], p: { evil: true } }]) {
        expectError(await t.admin.get(path(`cursor=${Buffer.from(JSON.stringify(forged)).toString('base64url')}`)), 400, 'bad_request', 'cursor');
      }
      expectError(await t.admin.get(path('limit=100000')), 413, 'limit_exceeded', 'limit');
    });
  });

  describe('admin views and changes any room', () => {
    it('lists the members of a conversation the admin is not in, which the member list refuses', async () => {
      const room = (await owner.api.post('/v1/conversations', { kind: 'room', title: 'Private', members: [member.user.id] })).body.conversation;
      expectError(await ada.api.get(`/v1/conversations/${room.id}/members`), 403, 'forbidden');
      const res = await ada.api.get(`/v1/admin/conversations/${room.id}/members`);
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(2);
      // Both joined at the same instant: the list orders them by join time, then user id.
      const expected = [
        [owner.user.id, 'owner'],
        [member.user.id, 'member'],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
      expect(res.body.items.map((m: any) => [m.userId, m.role])).toEqual(expected);
      expect((await walk(ada.api, `/v1/admin/conversations/${room.id}/members?`, 1)).map((m) => m.userId)).toEqual(expected.map(([id]) => id));
      expectError(await owner.api.get(`/v1/admin/conversations/${room.id}/members`), 403, 'forbidden');
      expectError(await t.anon.get(`/v1/admin/conversations/${room.id}/members`), 401, 'unauthenticated');
      expectError(await ada.api.get('/v1/admin/conversations/cnv_nothing/members'), 404, 'not_found', 'conversationId');
      expectError(await ada.api.get(`/v1/admin/conversations/${room.id}/members?limit=1001`), 413, 'limit_exceeded');
    });

    it('deactivates and reactivates any room through one service path, with events, system messages and audit entries', async () => {
      const room = (await owner.api.post('/v1/conversations', { kind: 'room', title: 'Closable', members: [member.user.id] })).body.conversation;
      const off = await ada.api.post(`/v1/admin/conversations/${room.id}/deactivate`);
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ id: room.id, active: false });
      expectError(await member.api.post(`/v1/conversations/${room.id}/messages`, { content: 'hello?' }), 409, 'conflict');
      const messages = (await member.api.get(`/v1/conversations/${room.id}/messages`)).body.items;
      expect(messages[0]).toMatchObject({ type: 'system', content: 'Ada deactivated the room' });
      // Again: nothing changes, nothing is recorded twice.
      expect((await ada.api.post(`/v1/admin/conversations/${room.id}/deactivate`)).body.active).toBe(false);
      expect((await ada.api.post(`/v1/admin/conversations/${room.id}/reactivate`)).body.active).toBe(true);
      const entries = await auditFor(room.id);
      expect(entries.map((e) => e.action)).toEqual(['conversation.reactivated', 'conversation.deactivated']);
      expect(entries[1]).toMatchObject({ actorId: ada.user.id, actorName: 'Ada', targetType: 'conversation', details: { kind: 'room', title: 'Closable' } });
    });

    it('refuses non-rooms, unknown rooms and non-admins', async () => {
      const group = (await owner.api.post('/v1/conversations', { kind: 'group', members: [member.user.id, ada.user.id] })).body.conversation;
      expectError(await ada.api.post(`/v1/admin/conversations/${group.id}/deactivate`), 409, 'conflict');
      expectError(await ada.api.post('/v1/admin/conversations/cnv_nothing/reactivate'), 404, 'not_found');
      const room = (await owner.api.post('/v1/conversations', { kind: 'room', title: 'Mine' })).body.conversation;
      expectError(await owner.api.post(`/v1/admin/conversations/${room.id}/deactivate`), 403, 'forbidden');
      expectError(await t.anon.post(`/v1/admin/conversations/${room.id}/deactivate`), 401, 'unauthenticated');
      expect(await auditFor(room.id)).toEqual([]);
    });
  });

  describe('GET /v1/admin/audit-log', () => {
    it('records every admin action on accounts and credentials: who, what, when, on what', async () => {
      const before = new Date(Date.now() - 1000).toISOString();
      const human = (await ada.api.post('/v1/users', { kind: 'human', handle: `h${Date.now()}`, password: 'correct horse battery' })).body.user;
      const bot = (await ada.api.post('/v1/users', { kind: 'bot', handle: `b${Date.now()}` })).body;
      await ada.api.patch(`/v1/users/${human.id}`, { displayName: 'Renamed', password: 'another long secret' });
      await ada.api.patch(`/v1/users/${human.id}`, { disabled: true });
      await ada.api.patch(`/v1/users/${human.id}`, { disabled: false });
      const token = (await ada.api.post(`/v1/users/${human.id}/tokens`, { scopes: ['chat'], expiresInSeconds: 60 })).body;
      await ada.api.delete(`/v1/users/${human.id}/tokens`);
      const key = (await ada.api.post(`/v1/users/${human.id}/api-keys`, { name: 'ci' })).body;
      await ada.api.delete(`/v1/users/${human.id}/api-keys/${key.apiKey.id}`);
      await ada.api.delete(`/v1/users/${bot.user.id}`);

      const forHuman = await auditFor(human.id);
      expect(forHuman.map((e) => e.action)).toEqual(['user.tokens_revoked', 'token.issued', 'user.enabled', 'user.disabled', 'user.updated', 'user.created']);
      for (const e of forHuman) {
        expect(e).toMatchObject({ actorId: ada.user.id, actorName: 'Ada', targetType: 'user', targetId: human.id });
        expect(Date.parse(e.at)).toBeGreaterThanOrEqual(Date.parse(before));
      }
      expect(forHuman.find((e) => e.action === 'user.created').details).toEqual({ handle: human.handle, kind: 'human', admin: false });
      expect(forHuman.find((e) => e.action === 'user.updated').details).toEqual({ changes: ['displayName', 'password'] });
      expect(forHuman.find((e) => e.action === 'user.disabled').details).toEqual({ changes: ['disabled'], disabled: true });
      expect(forHuman.find((e) => e.action === 'token.issued').details).toEqual({ scopes: ['chat'], expiresAt: token.expiresAt });
      expect((await auditFor(key.apiKey.id)).map((e) => [e.action, e.targetType, e.details.userId])).toEqual([
        ['api_key.deleted', 'api_key', human.id],
        ['api_key.created', 'api_key', human.id],
      ]);
      const forBot = await auditFor(bot.user.id);
      expect(forBot.map((e) => e.action)).toEqual(['user.deleted', 'user.created']);
      expect(forBot[1].details.apiKeyId).toEqual(expect.stringMatching(/^key_/));
      // Never a secret: not the password, the token or a key.
      const everything = JSON.stringify(await walk(t.admin, '/v1/admin/audit-log?action=user.*', 50));
      for (const secret of ['correct horse', 'another long', token.token, key.key, bot.apiKey]) expect(everything).not.toContain(secret);
    });

    it('records conversation actions that needed admin powers, and not what owners do in their own rooms', async () => {
      const room = (await owner.api.post('/v1/conversations', { kind: 'room', title: 'Audited', members: [member.user.id] })).body.conversation;
      const msg = (await member.api.post(`/v1/conversations/${room.id}/messages`, { content: 'remove me' })).body;
      const own = (await owner.api.post(`/v1/conversations/${room.id}/messages`, { content: 'mine' })).body;
      await owner.api.post(`/v1/conversations/${room.id}/deactivate`);
      await owner.api.post(`/v1/conversations/${room.id}/reactivate`);
      await owner.api.patch(`/v1/conversations/${room.id}`, { description: 'by the owner' });
      await owner.api.delete(`/v1/conversations/${room.id}/messages/${own.id}`);
      expect(await auditFor(room.id)).toEqual([]);

      const extra = await t.user();
      await ada.api.patch(`/v1/conversations/${room.id}`, { description: 'by an admin' });
      await ada.api.post(`/v1/conversations/${room.id}/members`, { members: [extra.user.id] });
      await ada.api.patch(`/v1/conversations/${room.id}/members/${extra.user.id}`, { role: 'owner' });
      await ada.api.delete(`/v1/conversations/${room.id}/members/${extra.user.id}`);
      await ada.api.delete(`/v1/conversations/${room.id}/messages/${msg.id}`);
      await ada.api.post(`/v1/conversations/${room.id}/deactivate`);
      await ada.api.delete(`/v1/conversations/${room.id}`);

      const entries = await auditFor(room.id);
      expect(entries.map((e) => e.action)).toEqual([
        'conversation.deleted',
        'conversation.deactivated',
        'member.removed',
        'member.role_changed',
        'member.added',
        'conversation.updated',
      ]);
      expect(entries.find((e) => e.action === 'conversation.updated').details).toEqual({ kind: 'room', changes: ['description'] });
      expect(entries.find((e) => e.action === 'member.added').details).toEqual({ userIds: [extra.user.id] });
      expect(entries.find((e) => e.action === 'member.role_changed').details).toEqual({ userId: extra.user.id, role: 'owner', previousRole: 'member' });
      expect(entries.find((e) => e.action === 'member.removed').details).toEqual({ userId: extra.user.id });
      const [deleted] = await auditFor(msg.id);
      expect(deleted).toMatchObject({ action: 'message.deleted', targetType: 'message', details: { conversationId: room.id, senderId: member.user.id } });
    });

    it('filters by actor, action family, target type and time, and pages', async () => {
      const actor = await t.user({ admin: true });
      const targets = await Promise.all(Array.from({ length: 3 }, () => t.user()));
      for (const u of targets) await actor.api.patch(`/v1/users/${u.user.id}`, { description: 'audited' });
      await actor.api.post(`/v1/users/${targets[0]!.user.id}/tokens`, {});
      const path = `/v1/admin/audit-log?actorId=${actor.user.id}`;
      const all = (await t.admin.get(path)).body.items;
      expect(all.map((e: any) => e.action)).toEqual(['token.issued', 'user.updated', 'user.updated', 'user.updated']);
      expect((await t.admin.get(`${path}&action=user.*`)).body.items).toHaveLength(3);
      expect((await t.admin.get(`${path}&action=token.issued`)).body.items).toHaveLength(1);
      expect((await t.admin.get(`${path}&targetType=conversation`)).body.items).toHaveLength(0);
      const until = encodeURIComponent(all[0].at);
      expect((await t.admin.get(`${path}&until=${until}`)).body.items.every((e: any) => e.at < all[0].at)).toBe(true);
      expect((await walk(t.admin, path, 1)).map((e) => e.id)).toEqual(all.map((e: any) => e.id));
      expect((await t.admin.get(`${path}&skip=1&limit=2`)).body.items.map((e: any) => e.id)).toEqual(all.slice(1, 3).map((e: any) => e.id));
      // The built-in admin key acts as the built-in admin account.
      const viaKey = (await t.admin.get(`/v1/admin/audit-log?actorId=${ADMIN_ID}&action=user.created&limit=1`)).body.items;
      expect(viaKey[0]).toMatchObject({ actorId: ADMIN_ID, actorName: 'Administrator' });
    });

    it('answers 400, 401, 403 and 413 with the standard error body', async () => {
      expectError(await t.anon.get('/v1/admin/audit-log'), 401, 'unauthenticated');
      expectError(await owner.api.get('/v1/admin/audit-log'), 403, 'forbidden');
      expectError(await t.admin.get('/v1/admin/audit-log?action=DROP%20TABLE'), 400, 'bad_request', 'action');
      expectError(await t.admin.get('/v1/admin/audit-log?targetType=planet'), 400, 'bad_request', 'targetType');
      expectError(await t.admin.get('/v1/admin/audit-log?since=never'), 400, 'bad_request', 'since');
      expectError(await t.admin.get('/v1/admin/audit-log?cursor=%21%21'), 400, 'bad_request', 'cursor');
      const forged = Buffer.from(JSON.stringify({ k: [42], p: { actorId: ['x'] } })).toString('base64url');
      expectError(await t.admin.get(`/v1/admin/audit-log?cursor=${forged}`), 400, 'bad_request', 'cursor');
      expectError(await t.admin.get('/v1/admin/audit-log?limit=100000'), 413, 'limit_exceeded', 'limit');
    });
  });
});
