import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, walkPages as walk } from './helpers/api-checks.js';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();

const q = encodeURIComponent;

describe.each(STORES)('$name: search over HTTP', (impl) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  /** A word no other test uses, so results are ours alone. */
  const tag = `zq${Math.random().toString(36).slice(2, 8)}`;
  const rooms: Record<string, any> = {};

  beforeAll(async () => {
    t = await startTestServer(impl);
    [alice, bob, carol] = await Promise.all([t.user({ displayName: 'Alice' }), t.user({ displayName: 'Bob' }), t.user({ displayName: 'Carol' })]);
    const make = async (who: TestUser, name: string, body: Record<string, unknown>) => {
      const res = await who.api.post('/v1/conversations', { kind: 'room', ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      rooms[name] = res.body.conversation;
    };
    await make(bob, 'publicTitle', { title: `${tag} Planning`, public: true, keywords: ['roadmap'] });
    await make(bob, 'publicDescription', { title: 'Weekly sync', description: `All about ${tag} and more`, public: true });
    await make(bob, 'publicHidden', { title: `${tag} hidden`, public: true, discoverable: false });
    await make(bob, 'privateOthers', { title: `${tag} secret`, public: false });
    await make(bob, 'privateMine', { title: `${tag} ours`, public: false, members: [alice.user.id] });
    await make(carol, 'carols', { title: `${tag} carol's corner`, public: true, keywords: ['Roadmap', 'Design'] });
  });
  afterAll(() => t.close());

  describe('GET /v1/search/rooms', () => {
    const path = (query: string) => `/v1/search/rooms?${query}`;

    it('finds public discoverable rooms and the caller\'s own, ranked title first, with the caller\'s role', async () => {
      const res = await alice.api.get(path(`q=${tag}`));
      expect(res.status).toBe(200);
      const ids = res.body.items.map((h: any) => h.room.id);
      expect(new Set(ids)).toEqual(new Set([rooms['publicTitle'].id, rooms['privateMine'].id, rooms['carols'].id, rooms['publicDescription'].id]));
      expect(ids.at(-1)).toBe(rooms['publicDescription'].id);
      const mine = res.body.items.find((h: any) => h.room.id === rooms['privateMine'].id);
      expect(mine.room.myRole).toBe('member');
      expect(res.body.items.find((h: any) => h.room.id === rooms['carols'].id).room.myRole).toBeNull();
      expect(res.body.items.every((h: any, i: number, all: any[]) => i === 0 || all[i - 1].score >= h.score)).toBe(true);
    });

    it('lets an admin credential find every room, and an admin user on a chat-only token only what a user finds', async () => {
      const all = (await t.admin.get(path(`q=${tag}`))).body.items.map((h: any) => h.room.id);
      expect(all).toHaveLength(6);
      const chatOnly = await t.user({ admin: true });
      const token = (await t.admin.post(`/v1/users/${chatOnly.user.id}/tokens`, { scopes: ['chat'] })).body.token;
      const limited = await chatOnly.api.as(token).get(path(`q=${tag}`));
      expect(limited.body.items).toHaveLength(3);
    });

    it('filters by labels, creator, owner, member, public and active; others\' memberships only in the caller\'s rooms', async () => {
      const ids = async (query: string, who: TestUser = alice) => (await who.api.get(path(`q=${tag}&${query}`))).body.items.map((h: any) => h.room.id);
      expect(await ids('labels=roadmap&labels=DESIGN')).toEqual([rooms['carols'].id]);
      expect(new Set(await ids('labels=roadmap'))).toEqual(new Set([rooms['publicTitle'].id, rooms['carols'].id]));
      expect(await ids(`creator=${carol.user.id}`)).toEqual([rooms['carols'].id]);
      expect(await ids('creator=me', carol)).toEqual([rooms['carols'].id]);
      expect(await ids('public=false')).toEqual([rooms['privateMine'].id]);
      expect(await ids('member=me')).toEqual([rooms['privateMine'].id]);
      // Bob owns four of the rooms Alice can find, but Alice sees Bob's ownership only where she is a member.
      expect(await ids(`owner=${bob.user.id}`)).toEqual([rooms['privateMine'].id]);
      expect(await t.admin.get(path(`q=${tag}&owner=${bob.user.id}`)).then((r) => r.body.items.length)).toBe(5);
      await bob.api.post(`/v1/conversations/${rooms['publicTitle'].id}/deactivate`);
      expect(await ids('active=false')).toEqual([rooms['publicTitle'].id]);
      await bob.api.post(`/v1/conversations/${rooms['publicTitle'].id}/reactivate`);
    });

    it('follows renames at once and never shows deleted rooms', async () => {
      const fresh = `${tag}x${Math.random().toString(36).slice(2, 6)}`;
      const made = await alice.api.post('/v1/conversations', { kind: 'room', title: `old name`, public: true });
      const id = made.body.conversation.id;
      await alice.api.patch(`/v1/conversations/${id}`, { title: `${fresh} new name` });
      expect((await bob.api.get(path(`q=${fresh}`))).body.items.map((h: any) => h.room.id)).toEqual([id]);
      await alice.api.delete(`/v1/conversations/${id}`);
      expect((await bob.api.get(path(`q=${fresh}`))).body.items).toEqual([]);
    });

    it('pages with cursors and skip: the pages flattened are the whole result', async () => {
      const whole = (await t.admin.get(path(`q=${tag}&limit=100`))).body.items.map((h: any) => h.room.id);
      expect((await walk(t.admin, path(`q=${tag}`), 2)).map((h) => h.room.id)).toEqual(whole);
      expect((await t.admin.get(path(`q=${tag}&skip=2&limit=2`))).body.items.map((h: any) => h.room.id)).toEqual(whole.slice(2, 4));
      expect((await walk(alice.api, path(`labels=roadmap&sort=created`), 1)).map((h) => h.room.id)).toEqual([rooms['carols'].id, rooms['publicTitle'].id]);
    });

    it('answers 400, 401 and 413 with the standard error body', async () => {
      expectError(await t.anon.get(path(`q=${tag}`)), 401, 'unauthenticated');
      expectError(await alice.api.get(path('q=')), 400, 'bad_request', 'q');
      expectError(await alice.api.get(path(`q=${q('!!! -x')}`)), 400, 'bad_request', 'q');
      expectError(await alice.api.get(path('sort=loudest')), 400, 'bad_request', 'sort');
      expectError(await alice.api.get(path('colour=blue')), 400, 'bad_request', 'colour');
      expectError(await alice.api.get(path('createdSince=yesterday')), 400, 'bad_request', 'createdSince');
      expectError(await alice.api.get(path('public=maybe')), 400, 'bad_request', 'public');
      expectError(await alice.api.get(path('cursor=notacursor')), 400, 'bad_request', 'cursor');
      const forged = Buffer.from(JSON.stringify({ k: [0, 0, 'x'], p: { q: 42 } })).toString('base64url');
      expectError(await alice.api.get(path(`cursor=${forged}`)), 400, 'bad_request', 'cursor');
      expectError(await alice.api.get(path('limit=101')), 413, 'limit_exceeded', 'limit');
      expectError(await alice.api.get(path('limit=0')), 400, 'bad_request', 'limit');
      expect((await alice.api.get(path('limit=100'))).status).toBe(200);
    });
  });

  describe('GET /v1/search/messages', () => {
    const path = (query: string) => `/v1/search/messages?${query}`;
    let group: string;
    let late: string;

    const send = async (who: TestUser, cid: string, body: Record<string, unknown>) => {
      const res = await who.api.post(`/v1/conversations/${cid}/messages`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    };

    beforeAll(async () => {
      group = (await alice.api.post('/v1/conversations', { kind: 'group', members: [bob.user.id, carol.user.id] })).body.conversation.id;
      late = (await bob.api.post('/v1/conversations', { kind: 'room', title: 'Late room', historyVisibleToNewMembers: false })).body.conversation.id;
      await send(alice, group, { content: `The ${tag} deployment went fine` });
      await send(bob, group, { content: `${tag} only for Carol`, visibleTo: carol.user.id });
      await send(bob, group, { type: 'html', content: `<p>Crème <b>brûlée</b> for ${tag}</p><p>東京都で会議</p>` });
      await send(bob, late, { content: `${tag} before Alice joined` });
      await bob.api.post(`/v1/conversations/${late}/members`, { members: [alice.user.id] });
      await send(bob, late, { content: `${tag} after Alice joined` });
    });

    it('finds what the caller may read, with highlighted snippets and where each message is', async () => {
      const res = await alice.api.get(path(`q=${tag}&sort=oldest`));
      expect(res.status).toBe(200);
      const texts = res.body.items.map((h: any) => h.message.content);
      expect(texts).toEqual([`The ${tag} deployment went fine`, expect.stringContaining('Crème'), `${tag} after Alice joined`]);
      const [first] = res.body.items;
      expect(first.conversation).toEqual({ id: group, kind: 'group', title: null });
      expect(first.snippet.text).toBe(`The ${tag} deployment went fine`);
      expect(first.snippet.highlights.map((h: any) => first.snippet.text.slice(h.start, h.end))).toEqual([tag]);
      const carolSees = (await carol.api.get(path(`q=${tag}`))).body.items.map((h: any) => h.message.content);
      expect(carolSees).toContain(`${tag} only for Carol`);
      const bobSees = (await bob.api.get(path(`q=${tag}`))).body.items.map((h: any) => h.message.content);
      expect(bobSees).toContain(`${tag} only for Carol`);
      expect(bobSees).toContain(`${tag} before Alice joined`);
      expect((await t.admin.get(path(`q=${tag}`))).body.items).toEqual([]);
    });

    it('finds accented, CJK and HTML text, and snippets show the text without tags', async () => {
      const [hit] = (await alice.api.get(path(`q=${q('creme brulee')}`))).body.items;
      expect(hit.snippet.text).toBe(` Crème brûlée for ${tag}  東京都で会議 `);
      expect(hit.snippet.highlights.map((h: any) => hit.snippet.text.slice(h.start, h.end))).toEqual(['Crème', 'brûlée']);
      const [cjk] = (await carol.api.get(path(`q=${q('東京')}`))).body.items;
      expect(cjk.snippet.highlights.map((h: any) => cjk.snippet.text.slice(h.start, h.end))).toEqual(['東京']);
      expect((await carol.api.get(path(`q=${q('会議')}&conversationId=${group}`))).body.items).toHaveLength(1);
    });

    it('re-indexes edits and forgets deletes at once', async () => {
      const word = `${tag}edit`;
      const sent = await send(alice, group, { content: `${word} first draft` });
      expect((await bob.api.get(path(`q=${word}`))).body.items).toHaveLength(1);
      await alice.api.patch(`/v1/conversations/${group}/messages/${sent.id}`, { content: 'second draft' });
      expect((await bob.api.get(path(`q=${word}`))).body.items).toEqual([]);
      expect((await bob.api.get(path(`q=${q('"second draft"')}&conversationId=${group}`))).body.items.map((h: any) => h.message.id)).toEqual([sent.id]);
      await alice.api.delete(`/v1/conversations/${group}/messages/${sent.id}`);
      expect((await bob.api.get(path(`q=${q('"second draft"')}&conversationId=${group}`))).body.items).toEqual([]);
    });

    it('stops finding messages of a conversation the caller left', async () => {
      const word = `${tag}leave`;
      const room = (await bob.api.post('/v1/conversations', { kind: 'room', title: 'Leaving', members: [carol.user.id] })).body.conversation.id;
      await send(bob, room, { content: `${word} here` });
      expect((await carol.api.get(path(`q=${word}`))).body.items).toHaveLength(1);
      await carol.api.post(`/v1/conversations/${room}/leave`);
      expect((await carol.api.get(path(`q=${word}`))).body.items).toEqual([]);
    });

    it('filters by conversation, sender and time', async () => {
      const ids = async (query: string) => (await alice.api.get(path(`q=${tag}&${query}`))).body.items.map((h: any) => h.message.content);
      expect(await ids(`conversationId=${late}`)).toEqual([`${tag} after Alice joined`]);
      expect(await ids('senderId=me')).toEqual([`The ${tag} deployment went fine`]);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect(await ids(`since=${q(future)}`)).toEqual([]);
      expect(await ids(`until=${q(future)}&senderId=${bob.user.id}&sort=oldest`)).toHaveLength(2);
    });

    it('pages with cursors and skip under every sort', async () => {
      for (const sort of ['relevance', 'newest', 'oldest']) {
        const whole = (await bob.api.get(path(`q=${tag}&sort=${sort}`))).body.items.map((h: any) => h.message.id);
        expect(whole.length).toBeGreaterThanOrEqual(5);
        expect((await walk(bob.api, path(`q=${tag}&sort=${sort}`), 2)).map((h) => h.message.id)).toEqual(whole);
        expect((await bob.api.get(path(`q=${tag}&sort=${sort}&skip=1&limit=2`))).body.items.map((h: any) => h.message.id)).toEqual(whole.slice(1, 3));
      }
    });

    it('answers 400, 401, 403, 404 and 413 with the standard error body', async () => {
      expectError(await t.anon.get(path(`q=${tag}`)), 401, 'unauthenticated');
      expectError(await alice.api.get(path('')), 400, 'bad_request', 'q');
      expectError(await alice.api.get(path(`q=${q('-only')}`)), 400, 'bad_request', 'q');
      expectError(await alice.api.get(path(`q=${'a'.repeat(257)}`)), 400, 'bad_request', 'q');
      expectError(await alice.api.get(path(`q=x&sort=best`)), 400, 'bad_request', 'sort');
      expectError(await alice.api.get(path(`q=x&since=soon`)), 400, 'bad_request', 'since');
      expectError(await alice.api.get(path(`q=x&cursor=${'!'.repeat(10)}`)), 400, 'bad_request', 'cursor');
      expectError(await alice.api.get(path(`q=x&limit=101`)), 413, 'limit_exceeded', 'limit');
      // A public room the caller is not in: readable only by members.
      expectError(await alice.api.get(path(`q=x&conversationId=${rooms['carols'].id}`)), 403, 'forbidden', 'conversationId');
      // A private room the caller is not in does not exist for it.
      expectError(await alice.api.get(path(`q=x&conversationId=${rooms['privateOthers'].id}`)), 404, 'not_found', 'conversationId');
      expectError(await alice.api.get(path(`q=x&conversationId=cnv_nothing`)), 404, 'not_found', 'conversationId');
    });
  });
});
