import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();

describe.each(STORES)('$name: groups over HTTP', (impl) => {
  let t: TestServer;
  let owner: TestUser;
  let friend: TestUser;
  let outsider: TestUser;
  let bot: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    t = await startTestServer(impl);
    [owner, friend, outsider, bot, admin] = await Promise.all([t.user(), t.user(), t.user(), t.user({ kind: 'bot' }), t.user({ admin: true })]);
  });
  afterAll(() => t.close());

  const makeGroup = async (as: TestUser, body: Record<string, unknown>) => {
    const res = await as.api.post('/v1/groups', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.group;
  };
  const memberIds = async (as: TestUser, conversationId: string) =>
    ((await as.api.get(`/v1/conversations/${conversationId}/members?limit=1000`)).body.items as any[]).map((m) => m.userId).sort();

  it('creates, gets, updates and deletes a group; private by default; failures per initial member', async () => {
    const res = await owner.api.post('/v1/groups', { name: 'Team', description: 'the team', members: [friend.user.id, 'usr_ghost', friend.user.id] });
    expect(res.status).toBe(201);
    const g = res.body.group;
    expect(g).toMatchObject({ name: 'Team', description: 'the team', visibility: 'private', ownerId: owner.user.id, memberCount: 1, isMember: false });
    expect(g.id).toMatch(/^grp_/);
    expect(res.body.failures).toEqual([{ userId: 'usr_ghost', error: { code: 'not_found', message: 'User not found', target: 'members[1]' } }]);

    expect((await friend.api.get(`/v1/groups/${g.id}`)).body).toMatchObject({ id: g.id, isMember: true });
    const hidden = await outsider.api.get(`/v1/groups/${g.id}`);
    expect([hidden.status, hidden.body.error.code]).toEqual([404, 'not_found']);
    expect((await admin.api.get(`/v1/groups/${g.id}`)).status).toBe(200);

    const renamed = await owner.api.patch(`/v1/groups/${g.id}`, { name: 'Core team', visibility: 'public' });
    expect(renamed.body).toMatchObject({ name: 'Core team', visibility: 'public' });
    expect((await outsider.api.get(`/v1/groups/${g.id}`)).status).toBe(200);
    const notOwner = await friend.api.patch(`/v1/groups/${g.id}`, { name: 'Mine' });
    expect([notOwner.status, notOwner.body.error.code]).toEqual([403, 'forbidden']);
    const empty = await owner.api.patch(`/v1/groups/${g.id}`, {});
    expect([empty.status, empty.body.error.code]).toEqual([400, 'bad_request']);

    expect((await friend.api.delete(`/v1/groups/${g.id}`)).status).toBe(403);
    expect((await owner.api.delete(`/v1/groups/${g.id}`)).status).toBe(204);
    expect((await owner.api.get(`/v1/groups/${g.id}`)).status).toBe(404);
    expect((await owner.api.delete(`/v1/groups/${g.id}`)).status).toBe(404);
  });

  it('validates input with the standard error body', async () => {
    for (const body of [{}, { name: '' }, { name: 'x', visibility: 'secret' }, { name: 'x', extra: 1 }, { name: 'x', members: 'usr_1' }]) {
      const res = await owner.api.post('/v1/groups', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    }
    expect((await t.anon.post('/v1/groups', { name: 'x' })).status).toBe(401);
    const many = await owner.api.post('/v1/groups', { name: 'x', members: Array.from({ length: 251 }, (_, i) => `usr_${i}`) });
    expect([many.status, many.body.error.code]).toEqual([413, 'limit_exceeded']);
  });

  it('manages members: add many (existing left alone, failures per user), list with paging, remove, leave', async () => {
    const others = await Promise.all(Array.from({ length: 5 }, () => t.user()));
    const g = await makeGroup(owner, { name: 'Paging', members: [friend.user.id] });
    const added = await owner.api.post(`/v1/groups/${g.id}/members`, { members: [...others.map((o) => o.user.id), friend.user.id, 'usr_ghost'] });
    expect(added.status).toBe(200);
    expect(added.body.added.map((m: any) => m.userId)).toEqual(others.map((o) => o.user.id));
    expect(added.body.added[0]).toMatchObject({ groupId: g.id, handle: others[0]!.user.handle, kind: 'human' });
    expect(added.body.failures.map((f: any) => [f.userId, f.error.code])).toEqual([['usr_ghost', 'not_found']]);

    const all = await friend.api.get(`/v1/groups/${g.id}/members?limit=1000`);
    expect(all.body.total).toBe(6);
    const ids = all.body.items.map((m: any) => m.userId);
    expect(ids).toHaveLength(6);
    expect((await friend.api.get(`/v1/groups/${g.id}/members?skip=2&limit=2`)).body.items.map((m: any) => m.userId)).toEqual(ids.slice(2, 4));
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await friend.api.get(`/v1/groups/${g.id}/members?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.items.length).toBeLessThanOrEqual(4);
      walked.push(...page.body.items.map((m: any) => m.userId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(walked).toEqual(ids);
    expect((await friend.api.get(`/v1/groups/${g.id}/members?cursor=garbage`)).status).toBe(400);
    expect((await outsider.api.get(`/v1/groups/${g.id}/members`)).status).toBe(404);

    expect((await friend.api.post(`/v1/groups/${g.id}/members`, { members: [outsider.user.id] })).status).toBe(403);
    expect((await friend.api.delete(`/v1/groups/${g.id}/members/${others[0]!.user.id}`)).status).toBe(403);
    expect((await owner.api.delete(`/v1/groups/${g.id}/members/${others[0]!.user.id}`)).status).toBe(204);
    expect((await owner.api.delete(`/v1/groups/${g.id}/members/${others[0]!.user.id}`)).status).toBe(404);
    expect((await friend.api.delete(`/v1/groups/${g.id}/members/me`)).status).toBe(204);
    expect((await owner.api.get(`/v1/groups/${g.id}`)).body.memberCount).toBe(4);
    // Having left a private group, it is hidden again.
    expect((await friend.api.get(`/v1/groups/${g.id}`)).status).toBe(404);
  });

  it('lists the groups a user may see, filtered and paged; admins see all', async () => {
    const tag = `L${Date.now()}`;
    const pub = await makeGroup(owner, { name: tag, visibility: 'public' });
    const priv = await makeGroup(owner, { name: tag, members: [friend.user.id] });
    const foreign = await makeGroup(outsider, { name: tag });
    const names = async (as: TestUser, query = '') =>
      ((await as.api.get(`/v1/groups?name=${tag}${query}`)).body.items as any[]).map((g) => g.id);
    expect(await names(owner)).toEqual([pub.id, priv.id]);
    expect(await names(friend)).toEqual([pub.id, priv.id]);
    expect(await names(outsider)).toEqual([pub.id, foreign.id]);
    expect(await names(admin)).toEqual([pub.id, priv.id, foreign.id]);
    expect(await names(owner, '&visibility=private')).toEqual([priv.id]);
    expect(await names(friend, '&mine=true')).toEqual([priv.id]);
    const first = await admin.api.get(`/v1/groups?name=${tag}&limit=2`);
    expect(first.body.items).toHaveLength(2);
    const second = await admin.api.get(`/v1/groups?name=${tag}&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((g: any) => g.id)).toEqual([foreign.id]);
    expect(second.body.nextCursor).toBeNull();
    expect((await admin.api.get(`/v1/groups?name=${tag}&skip=1&limit=1`)).body.items.map((g: any) => g.id)).toEqual([priv.id]);
    expect((await owner.api.get('/v1/groups?limit=100000')).status).toBe(413);
  });

  it('adds the groups\' current, enabled members when creating a conversation or adding members', async () => {
    const [a, b, c, off] = await Promise.all([t.user(), t.user(), t.user(), t.user()]);
    const g1 = await makeGroup(owner, { name: 'G1', members: [a.user.id, b.user.id, off.user.id, owner.user.id] });
    const g2 = await makeGroup(owner, { name: 'G2', visibility: 'public', members: [b.user.id, c.user.id] });
    await t.admin.patch(`/v1/users/${off.user.id}`, { disabled: true });

    const room = await owner.api.post('/v1/conversations', { kind: 'room', title: 'From groups', groups: [g1.id], members: [{ userId: a.user.id, role: 'owner' }] });
    expect(room.status).toBe(201);
    const roomId = room.body.conversation.id;
    expect(await memberIds(owner, roomId)).toEqual([owner.user.id, a.user.id, b.user.id].sort());
    expect((await owner.api.get(`/v1/conversations/${roomId}/members/${a.user.id}`)).body.role).toBe('owner');

    const more = await owner.api.post(`/v1/conversations/${roomId}/members`, { groups: [g2.id] });
    expect(more.status).toBe(200);
    expect(more.body.added.map((m: any) => m.userId)).toEqual([c.user.id]);
    expect(await memberIds(owner, roomId)).toEqual([owner.user.id, a.user.id, b.user.id, c.user.id].sort());

    // A snapshot: later changes to the group do not change the conversation.
    await owner.api.delete(`/v1/groups/${g1.id}/members/${a.user.id}`);
    expect(await memberIds(owner, roomId)).toContain(a.user.id);

    const group = await owner.api.post('/v1/conversations', { kind: 'group', groups: [g2.id] });
    expect(group.status).toBe(201);
    expect(await memberIds(owner, group.body.conversation.id)).toEqual([owner.user.id, b.user.id, c.user.id].sort());
    const again = await owner.api.post('/v1/conversations', { kind: 'group', members: [b.user.id, c.user.id] });
    expect(again.body).toMatchObject({ created: false, conversation: { id: group.body.conversation.id } });

    const direct = await owner.api.post('/v1/conversations', { kind: 'direct', members: [a.user.id], groups: [g2.id] });
    expect([direct.status, direct.body.error.target]).toEqual([400, 'groups']);
    const none = await owner.api.post(`/v1/conversations/${roomId}/members`, {});
    expect([none.status, none.body.error.code]).toEqual([400, 'bad_request']);
    const ghost = await owner.api.post('/v1/conversations', { kind: 'room', title: 'x', groups: ['grp_ghost'] });
    expect([ghost.status, ghost.body.error.code, ghost.body.error.target]).toEqual([404, 'not_found', 'groups[0]']);
    const notMine = await outsider.api.post('/v1/conversations', { kind: 'room', title: 'x', groups: [g1.id] });
    expect([notMine.status, notMine.body.error.target]).toEqual([404, 'groups[0]']);
  });

  it('lets bots use public groups only, with a clear 403 otherwise', async () => {
    const [a, b] = await Promise.all([t.user(), t.user()]);
    const pub = await makeGroup(owner, { name: 'Public', visibility: 'public', members: [a.user.id] });
    const priv = await makeGroup(owner, { name: 'Private', members: [b.user.id, bot.user.id] });
    const ok = await bot.api.post('/v1/conversations', { kind: 'room', title: 'Bot room', groups: [pub.id] });
    expect(ok.status).toBe(201);
    expect(await memberIds(bot, ok.body.conversation.id)).toEqual([bot.user.id, a.user.id].sort());
    for (const attempt of [
      () => bot.api.post('/v1/conversations', { kind: 'room', title: 'No', groups: [priv.id] }),
      () => bot.api.post(`/v1/conversations/${ok.body.conversation.id}/members`, { groups: [priv.id] }),
    ]) {
      const res = await attempt();
      expect([res.status, res.body.error.code, res.body.error.target]).toEqual([403, 'forbidden', 'groups[0]']);
      expect(res.body.error.message).toMatch(/Bots may use only public groups/);
    }
    expect(await memberIds(bot, ok.body.conversation.id)).toEqual([bot.user.id, a.user.id].sort());
    const botPrivate = await bot.api.post('/v1/groups', { name: 'Mine', visibility: 'private' });
    expect([botPrivate.status, botPrivate.body.error.code]).toEqual([403, 'forbidden']);
    const botGroup = await bot.api.post('/v1/groups', { name: 'Bot circle' });
    expect(botGroup.body.group.visibility).toBe('public');
    const hide = await bot.api.patch(`/v1/groups/${botGroup.body.group.id}`, { visibility: 'private' });
    expect([hide.status, hide.body.error.target]).toEqual([403, 'visibility']);
  });

  it('keeps groups consistent when accounts are deleted', async () => {
    const [creator, m] = await Promise.all([t.user(), t.user()]);
    const g = await makeGroup(creator, { name: 'Orphan', visibility: 'public', members: [m.user.id, friend.user.id] });
    expect((await t.admin.delete(`/v1/users/${m.user.id}`)).status).toBe(204);
    expect((await t.admin.delete(`/v1/users/${creator.user.id}`)).status).toBe(204);
    const after = await admin.api.get(`/v1/groups/${g.id}`);
    expect(after.body).toMatchObject({ ownerId: null, memberCount: 1 });
    expect((await friend.api.patch(`/v1/groups/${g.id}`, { name: 'taken' })).status).toBe(403);
    expect((await admin.api.patch(`/v1/groups/${g.id}`, { name: 'Adopted' })).body.name).toBe('Adopted');
  });
});
