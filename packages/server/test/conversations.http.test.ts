import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();

const room = (extra: Record<string, unknown> = {}) => ({ kind: 'room', title: `Room ${Math.random()}`, ...extra });

describe.each(STORES)('$name: conversations over HTTP', (impl) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  beforeAll(async () => {
    t = await startTestServer(impl);
    [alice, bob, carol] = await Promise.all([t.user(), t.user(), t.user()]);
  });
  afterAll(() => t.close());

  describe('create', () => {
    it('creates a room with its creator as owner, members and a first message', async () => {
      const res = await alice.api.post('/v1/conversations', room({ members: [bob.user.id, { userId: carol.user.id, role: 'owner' }], message: { content: 'hi all' }, description: 'd', keywords: ['x'] }));
      expect(res.status).toBe(201);
      const { conversation: c, message, created } = res.body;
      expect(created).toBe(true);
      expect(c).toMatchObject({ kind: 'room', myRole: 'owner', memberCount: 3, active: true, public: false, readOnly: false, description: 'd', keywords: ['x'], createdBy: alice.user.id });
      expect(message).toMatchObject({ content: 'hi all', senderId: alice.user.id, type: 'text' });
      const members = await alice.api.get(`/v1/conversations/${c.id}/members`);
      expect(members.body.items.map((m: any) => [m.userId, m.role])).toEqual(
        expect.arrayContaining([[alice.user.id, 'owner'], [bob.user.id, 'member'], [carol.user.id, 'owner']]),
      );
      const history = await bob.api.get(`/v1/conversations/${c.id}/messages?order=asc`);
      expect(history.body.items.map((m: any) => m.type)).toEqual(['system', 'system', 'text']);
      expect(history.body.items[0].system).toMatchObject({ event: 'conversation.created', actorId: alice.user.id });
      expect(history.body.items[1].system).toMatchObject({ event: 'member.added' });
      expect(history.body.items.map((m: any) => m.seq)).toEqual([1, 2, 3]);
    });

    it('validates rooms and kinds', async () => {
      const noTitle = await alice.api.post('/v1/conversations', { kind: 'room' });
      expect([noTitle.status, noTitle.body.error.code, noTitle.body.error.target]).toEqual([400, 'bad_request', 'title']);
      const roomOnly = await alice.api.post('/v1/conversations', { kind: 'group', members: [bob.user.id], readOnly: true });
      expect([roomOnly.status, roomOnly.body.error.target]).toEqual([400, 'readOnly']);
      const badKind = await alice.api.post('/v1/conversations', { kind: 'channel' });
      expect([badKind.status, badKind.body.error.target]).toEqual([400, 'kind']);
      expect(badKind.body.error.message).toContain('direct, group, room');
      const unknownField = await alice.api.post('/v1/conversations', room({ colour: 'red' }));
      expect([unknownField.status, unknownField.body.error.target]).toEqual([400, 'colour']);
      const blank = await alice.api.post('/v1/conversations', room({ title: '   ' }));
      expect(blank.status).toBe(400);
      const long = await alice.api.post('/v1/conversations', room({ title: 'x'.repeat(257) }));
      expect([long.status, long.body.error.code]).toEqual([413, 'limit_exceeded']);
    });

    it('returns the same direct conversation from either side', async () => {
      const first = await alice.api.post('/v1/conversations', { kind: 'direct', members: [bob.user.id] });
      expect(first.status).toBe(201);
      const again = await alice.api.post('/v1/conversations', { kind: 'direct', members: [bob.user.id] });
      const reverse = await bob.api.post('/v1/conversations', { kind: 'direct', members: [alice.user.id], message: { content: 'yo' } });
      expect([again.status, again.body.created]).toEqual([200, false]);
      expect(reverse.status).toBe(200);
      expect(again.body.conversation.id).toBe(first.body.conversation.id);
      expect(reverse.body.conversation.id).toBe(first.body.conversation.id);
      expect(reverse.body.message).toMatchObject({ content: 'yo', senderId: bob.user.id });
      expect(first.body.conversation.myRole).toBe('member');
    });

    it('refuses a direct conversation with oneself or with two others', async () => {
      const self = await alice.api.post('/v1/conversations', { kind: 'direct', members: [alice.user.id] });
      const three = await alice.api.post('/v1/conversations', { kind: 'direct', members: [bob.user.id, carol.user.id] });
      expect([self.status, self.body.error.target]).toEqual([400, 'members']);
      expect(three.status).toBe(400);
    });

    it('returns the same untitled group for the same member set, whatever the order or duplicates', async () => {
      const dave = await t.user();
      const a = await alice.api.post('/v1/conversations', { kind: 'group', members: [bob.user.id, dave.user.id] });
      const b = await dave.api.post('/v1/conversations', { kind: 'group', members: [bob.user.id, alice.user.id, bob.user.id] });
      expect(a.status).toBe(201);
      expect([b.status, b.body.conversation.id]).toEqual([200, a.body.conversation.id]);
      const titled = await alice.api.post('/v1/conversations', { kind: 'group', title: 'Project', members: [bob.user.id, dave.user.id] });
      expect(titled.status).toBe(201);
      expect(titled.body.conversation.id).not.toBe(a.body.conversation.id);
    });

    it('lets an admin create a group between others without being in it', async () => {
      const dave = await t.user();
      const eve = await t.user();
      const res = await t.admin.post('/v1/conversations', { kind: 'group', members: [dave.user.id, eve.user.id], includeCreator: false });
      expect(res.status).toBe(201);
      expect(res.body.conversation).toMatchObject({ myRole: null, memberCount: 2 });
      const seen = await dave.api.get(`/v1/conversations/${res.body.conversation.id}`);
      expect(seen.status).toBe(200);
      const notAdmin = await alice.api.post('/v1/conversations', { kind: 'group', members: [dave.user.id, eve.user.id], includeCreator: false });
      expect([notAdmin.status, notAdmin.body.error.code]).toEqual([403, 'forbidden']);
      const tooFew = await t.admin.post('/v1/conversations', { kind: 'group', members: [dave.user.id], includeCreator: false });
      expect(tooFew.status).toBe(400);
    });

    it('reports unknown and disabled members by position', async () => {
      const unknown = await alice.api.post('/v1/conversations', room({ members: [bob.user.id, 'usr_nope'] }));
      expect([unknown.status, unknown.body.error.code, unknown.body.error.target]).toEqual([404, 'not_found', 'members[1]']);
      const gone = await t.user();
      await t.admin.patch(`/v1/users/${gone.user.id}`, { disabled: true });
      const disabled = await alice.api.post('/v1/conversations', room({ members: [gone.user.id] }));
      expect([disabled.status, disabled.body.error.target]).toEqual([403, 'members[0]']);
    });

    it('is idempotent by Repeatability-Request-Id and by idempotencyKey, and refuses key reuse for another request', async () => {
      const key = `k-${Math.random()}`;
      const body = room({ members: [bob.user.id], message: { content: 'first' } });
      const one = await alice.api.post('/v1/conversations', body, { 'repeatability-request-id': key });
      const two = await alice.api.post('/v1/conversations', body, { 'repeatability-request-id': key });
      expect([one.status, two.status]).toEqual([201, 201]);
      expect(two.body.conversation.id).toBe(one.body.conversation.id);
      expect(two.body.message.id).toBe(one.body.message.id);
      const other = await alice.api.post('/v1/conversations', { ...body, title: 'different' }, { 'repeatability-request-id': key });
      expect([other.status, other.body.error.code]).toEqual([409, 'conflict']);
      // The same key from another caller is another key.
      const bobs = await bob.api.post('/v1/conversations', body, { 'repeatability-request-id': key });
      expect(bobs.body.conversation.id).not.toBe(one.body.conversation.id);
      const fieldKey = `f-${Math.random()}`;
      const viaField = await Promise.all(
        Array.from({ length: 5 }, () => alice.api.post('/v1/conversations', { ...room({ title: fieldKey }), idempotencyKey: fieldKey })),
      );
      expect(new Set(viaField.map((r) => r.body.conversation.id)).size).toBe(1);
      const found = await alice.api.get(`/v1/conversations?title=${encodeURIComponent(fieldKey)}`);
      expect(found.body.items).toHaveLength(1);
    });

    it('needs a credential', async () => {
      const res = await t.anon.post('/v1/conversations', room());
      expect([res.status, res.body.error.code]).toEqual([401, 'unauthenticated']);
    });
  });

  describe('get and list', () => {
    it('shows a conversation to members and hides private ones from others', async () => {
      const c = (await alice.api.post('/v1/conversations', room({ members: [bob.user.id] }))).body.conversation;
      expect((await bob.api.get(`/v1/conversations/${c.id}`)).body.myRole).toBe('member');
      const other = await carol.api.get(`/v1/conversations/${c.id}`);
      expect([other.status, other.body.error.code]).toEqual([404, 'not_found']);
      expect((await t.admin.get(`/v1/conversations/${c.id}`)).status).toBe(200);
      expect((await alice.api.get('/v1/conversations/cnv_unknown')).status).toBe(404);
      const pub = (await alice.api.post('/v1/conversations', room({ public: true }))).body.conversation;
      const seen = await carol.api.get(`/v1/conversations/${pub.id}`);
      expect([seen.status, seen.body.myRole]).toEqual([200, null]);
    });

    it('lists mine with filters, exact-title search, sorts, skip/limit and cursors', async () => {
      const me = await t.user();
      const title = `Find me ${Math.random()}`;
      const made = [];
      for (let i = 0; i < 5; i++) {
        made.push((await me.api.post('/v1/conversations', room({ title: i % 2 ? title : `${title} ${i}` }))).body.conversation);
      }
      const group = (await me.api.post('/v1/conversations', { kind: 'group', members: [alice.user.id, bob.user.id, carol.user.id] })).body.conversation;
      await me.api.post(`/v1/conversations/${made[4].id}/deactivate`);
      const all = await me.api.get('/v1/conversations');
      expect(all.body.items.map((c: any) => c.id)).toEqual([...made.map((c) => c.id), group.id]);
      expect((await me.api.get('/v1/conversations?kind=group')).body.items.map((c: any) => c.id)).toEqual([group.id]);
      expect((await me.api.get('/v1/conversations?active=false')).body.items.map((c: any) => c.id)).toEqual([made[4].id]);
      const byTitle = await me.api.get(`/v1/conversations?title=${encodeURIComponent(title)}`);
      expect(byTitle.body.items.map((c: any) => c.id)).toEqual([made[1].id, made[3].id]);
      expect((await me.api.get('/v1/conversations?skip=2&limit=2')).body.items.map((c: any) => c.id)).toEqual([made[2].id, made[3].id]);
      const pages: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await me.api.get(`/v1/conversations?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        pages.push(...page.body.items.map((c: any) => c.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(pages).toEqual(all.body.items.map((c: any) => c.id));
      await me.api.post(`/v1/conversations/${made[0].id}/messages`, { content: 'bump' });
      const active = await me.api.get('/v1/conversations?sort=activity&limit=1');
      expect(active.body.items[0].id).toBe(made[0].id);
      const since = new Date(Date.now() + 60_000).toISOString();
      expect((await me.api.get(`/v1/conversations?updatedSince=${since}`)).body.items).toEqual([]);
      const tooBig = await me.api.get('/v1/conversations?limit=100000');
      expect([tooBig.status, tooBig.body.error.code]).toEqual([413, 'limit_exceeded']);
      const badCursor = await me.api.get('/v1/conversations?cursor=not-a-cursor');
      expect([badCursor.status, badCursor.body.error.target]).toEqual([400, 'cursor']);
    });
  });

  describe('update', () => {
    it('lets owners change room attributes, with an event and a system message for the title', async () => {
      const c = (await alice.api.post('/v1/conversations', room({ members: [bob.user.id] }))).body.conversation;
      const res = await alice.api.patch(`/v1/conversations/${c.id}`, { title: 'Renamed', readOnly: true, keywords: ['k'], metadata: { a: 'b' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ title: 'Renamed', readOnly: true, keywords: ['k'], metadata: { a: 'b' } });
      const last = await bob.api.get(`/v1/conversations/${c.id}/messages?limit=1`);
      expect(last.body.items[0].system).toMatchObject({ event: 'title.changed', title: 'Renamed', previousTitle: c.title });
      const events = await bob.api.get(`/v1/conversations/${c.id}/events?after=0`);
      const updated = events.body.items.find((e: any) => e.type === 'conversation.updated');
      expect(updated.data.changes.sort()).toEqual(['keywords', 'metadata', 'readOnly', 'title']);
      const member = await bob.api.patch(`/v1/conversations/${c.id}`, { title: 'Mine' });
      expect([member.status, member.body.error.code]).toEqual([403, 'forbidden']);
      const outsider = await carol.api.patch(`/v1/conversations/${c.id}`, { title: 'Mine' });
      expect(outsider.status).toBe(404);
      const empty = await alice.api.patch(`/v1/conversations/${c.id}`, {});
      expect(empty.status).toBe(400);
      const nullTitle = await alice.api.patch(`/v1/conversations/${c.id}`, { title: null });
      expect([nullTitle.status, nullTitle.body.error.target]).toEqual([400, 'title']);
      const same = await alice.api.patch(`/v1/conversations/${c.id}`, { title: 'Renamed' });
      expect(same.body.lastSeq).toBe(res.body.lastSeq);
    });

    it('lets any group member set the title, and pins a message', async () => {
      const g = (await alice.api.post('/v1/conversations', { kind: 'group', title: 'G', members: [bob.user.id] })).body.conversation;
      const msg = (await bob.api.post(`/v1/conversations/${g.id}/messages`, { content: 'pin me' })).body;
      const res = await bob.api.patch(`/v1/conversations/${g.id}`, { title: 'Bob\'s', pinnedMessageId: msg.id });
      expect(res.body).toMatchObject({ title: 'Bob\'s', pinnedMessageId: msg.id });
      const badPin = await bob.api.patch(`/v1/conversations/${g.id}`, { pinnedMessageId: 'msg_missing' });
      expect([badPin.status, badPin.body.error.target]).toEqual([404, 'pinnedMessageId']);
      const roomOnly = await bob.api.patch(`/v1/conversations/${g.id}`, { public: true });
      expect(roomOnly.status).toBe(400);
      expect((await bob.api.delete(`/v1/conversations/${g.id}/messages/${msg.id}`)).status).toBe(204);
      expect((await alice.api.get(`/v1/conversations/${g.id}`)).body.pinnedMessageId).toBeNull();
      const events = (await alice.api.get(`/v1/conversations/${g.id}/events`)).body.items;
      expect(events.at(-1)).toMatchObject({ type: 'conversation.updated', data: { changes: ['pinnedMessageId'] } });
    });
  });

  describe('deactivate and reactivate', () => {
    it('freezes a room: readable, no new messages, members or changes; owners and admins only', async () => {
      const c = (await alice.api.post('/v1/conversations', room({ members: [bob.user.id], message: { content: 'before' } }))).body.conversation;
      expect((await bob.api.post(`/v1/conversations/${c.id}/deactivate`)).status).toBe(403);
      const off = await alice.api.post(`/v1/conversations/${c.id}/deactivate`);
      expect([off.status, off.body.active]).toEqual([200, false]);
      const send = await bob.api.post(`/v1/conversations/${c.id}/messages`, { content: 'x' });
      expect([send.status, send.body.error.code]).toEqual([409, 'conflict']);
      expect((await alice.api.post(`/v1/conversations/${c.id}/members`, { members: [carol.user.id] })).status).toBe(409);
      expect((await alice.api.patch(`/v1/conversations/${c.id}`, { title: 'x' })).status).toBe(409);
      expect((await bob.api.get(`/v1/conversations/${c.id}/messages`)).status).toBe(200);
      expect((await alice.api.post(`/v1/conversations/${c.id}/deactivate`)).status).toBe(200);
      const on = await t.admin.post(`/v1/conversations/${c.id}/reactivate`);
      expect([on.status, on.body.active]).toEqual([200, true]);
      expect((await bob.api.post(`/v1/conversations/${c.id}/messages`, { content: 'again' })).status).toBe(201);
      const sys = (await bob.api.get(`/v1/conversations/${c.id}/messages?order=asc`)).body.items.filter((m: any) => m.type === 'system').map((m: any) => m.system.event);
      expect(sys).toEqual(expect.arrayContaining(['conversation.deactivated', 'conversation.reactivated']));
      const g = (await alice.api.post('/v1/conversations', { kind: 'group', title: 'g', members: [bob.user.id] })).body.conversation;
      expect((await alice.api.post(`/v1/conversations/${g.id}/deactivate`)).status).toBe(409);
    });
  });

  describe('delete', () => {
    it('lets owners and admins delete; the conversation is gone for everyone', async () => {
      const c = (await alice.api.post('/v1/conversations', room({ members: [bob.user.id] }))).body.conversation;
      expect((await bob.api.delete(`/v1/conversations/${c.id}`)).status).toBe(403);
      expect((await carol.api.delete(`/v1/conversations/${c.id}`)).status).toBe(404);
      expect((await alice.api.delete(`/v1/conversations/${c.id}`)).status).toBe(204);
      expect((await bob.api.get(`/v1/conversations/${c.id}`)).status).toBe(404);
      expect((await bob.api.get('/v1/conversations')).body.items.map((x: any) => x.id)).not.toContain(c.id);
      const other = (await alice.api.post('/v1/conversations', room())).body.conversation;
      expect((await t.admin.delete(`/v1/conversations/${other.id}`)).status).toBe(204);
    });

    it('lets either member delete a direct conversation, after which it can be opened anew', async () => {
      const dave = await t.user();
      const d = (await alice.api.post('/v1/conversations', { kind: 'direct', members: [dave.user.id] })).body.conversation;
      expect((await dave.api.delete(`/v1/conversations/${d.id}`)).status).toBe(204);
      const again = await alice.api.post('/v1/conversations', { kind: 'direct', members: [dave.user.id] });
      expect(again.status).toBe(201);
      expect(again.body.conversation.id).not.toBe(d.id);
    });
  });

  describe('join and leave', () => {
    it('joins public rooms only', async () => {
      const pub = (await alice.api.post('/v1/conversations', room({ public: true, message: { content: 'old' } }))).body.conversation;
      const join = await carol.api.post(`/v1/conversations/${pub.id}/join`);
      expect([join.status, join.body.role, join.body.userId]).toEqual([200, 'member', carol.user.id]);
      expect((await carol.api.post(`/v1/conversations/${pub.id}/join`)).status).toBe(200);
      const seen = await carol.api.get(`/v1/conversations/${pub.id}/messages?order=asc`);
      expect(seen.body.items.map((m: any) => m.content)).toEqual([expect.stringContaining('joined')]);
      const priv = (await alice.api.post('/v1/conversations', room())).body.conversation;
      expect((await carol.api.post(`/v1/conversations/${priv.id}/join`)).status).toBe(404);
      expect((await t.admin.post(`/v1/conversations/${priv.id}/join`)).status).toBe(403);
      const closed = (await alice.api.post('/v1/conversations', room({ public: true }))).body.conversation;
      await alice.api.post(`/v1/conversations/${closed.id}/deactivate`);
      expect((await carol.api.post(`/v1/conversations/${closed.id}/join`)).status).toBe(409);
    });

    it('leaves, and keeps a room\'s last owner until another is promoted', async () => {
      const c = (await alice.api.post('/v1/conversations', room({ members: [bob.user.id] }))).body.conversation;
      expect((await bob.api.post(`/v1/conversations/${c.id}/leave`)).status).toBe(204);
      expect((await bob.api.get(`/v1/conversations/${c.id}/messages`)).status).toBe(404);
      const c2 = (await alice.api.post('/v1/conversations', room({ members: [bob.user.id] }))).body.conversation;
      const stuck = await alice.api.post(`/v1/conversations/${c2.id}/leave`);
      expect([stuck.status, stuck.body.error.code]).toEqual([409, 'conflict']);
      await alice.api.patch(`/v1/conversations/${c2.id}/members/${bob.user.id}`, { role: 'owner' });
      expect((await alice.api.post(`/v1/conversations/${c2.id}/leave`)).status).toBe(204);
      const d = (await alice.api.post('/v1/conversations', { kind: 'direct', members: [carol.user.id] })).body.conversation;
      expect((await alice.api.post(`/v1/conversations/${d.id}/leave`)).status).toBe(409);
      expect((await carol.api.post(`/v1/conversations/${c2.id}/leave`)).status).toBe(404);
    });
  });
});
