import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type ApiResponse, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

// Messages over REST: send, read, list and page, edit, delete, and who may see what. Every test makes
// its own users and conversations.

const STORES = await storeImpls();

function expectError(res: ApiResponse<any>, status: number, code: string, target?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body?.error?.code, JSON.stringify(res.body)).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  if (target !== undefined) expect(res.body.error.target).toBe(target);
}

describe.each(STORES)('$name: messages over HTTP', (impl) => {
  let t: TestServer;
  let limits: { maxMessageLength: number; maxMetadataEntries: number; maxMetadataBytes: number; maxPageSize: number };
  beforeAll(async () => {
    t = await startTestServer(impl);
    limits = (await t.anon.get('/v1/limits')).body;
  });
  afterAll(() => t.close());

  /** A room owned by `owner` with `members`; returns its id. */
  async function openRoom(owner: TestUser, members: TestUser[] = [], extra: Record<string, unknown> = {}): Promise<string> {
    const res = await owner.api.post('/v1/conversations', {
      kind: 'room',
      title: `Room ${Math.random().toString(36).slice(2)}`,
      members: members.map((m) => m.user.id),
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.conversation.id;
  }

  const path = (cid: string, mid?: string) => `/v1/conversations/${cid}/messages${mid === undefined ? '' : `/${mid}`}`;

  async function send(u: TestUser, cid: string, body: unknown, headers?: Record<string, string>): Promise<any> {
    const res = await u.api.post(path(cid), body, headers);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  /** Everything `u` sees, oldest first. */
  async function history(u: TestUser, cid: string): Promise<any[]> {
    const res = await u.api.get(`${path(cid)}?order=asc&limit=${limits.maxPageSize}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.items;
  }

  const seqs = (items: any[]) => items.map((m) => m.seq);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  describe('send', () => {
    it('sends text (201) with dense seqs, system messages included', async () => {
      const [owner, bob, carol] = [await t.user(), await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      // 1: created, 2: bob added.
      const first = await send(owner, cid, { content: 'one' });
      expect(first).toMatchObject({
        conversationId: cid,
        seq: 3,
        type: 'text',
        content: 'one',
        senderId: owner.user.id,
        senderDisplayName: owner.user.displayName,
        metadata: {},
        share: null,
        system: null,
        visibleTo: null,
        version: 1,
        editedAt: null,
        deletedAt: null,
      });
      expect((await send(bob, cid, { type: 'text', content: 'two' })).seq).toBe(4);
      expect((await send(owner, cid, { content: 'three' })).seq).toBe(5);
      expect((await owner.api.post(`/v1/conversations/${cid}/members`, { members: [carol.user.id] })).status).toBe(200);
      expect((await send(carol, cid, { content: 'four' })).seq).toBe(7);

      const items = await history(owner, cid);
      expect(seqs(items)).toEqual(range(1, 7));
      expect(items.map((m) => m.type)).toEqual(['system', 'system', 'text', 'text', 'text', 'system', 'text']);
      expect(items[5].system).toMatchObject({ event: 'member.added', userIds: [carol.user.id] });
      expect((await owner.api.get(`/v1/conversations/${cid}`)).body.lastMessageSeq).toBe(7);
    });

    it('keeps seqs dense and unique under concurrent senders', async () => {
      const owner = await t.user();
      const others = [await t.user(), await t.user(), await t.user()];
      const cid = await openRoom(owner, others);
      const senders = [owner, ...others, owner, ...others, owner, ...others];
      const sent = await Promise.all(senders.map((u, i) => send(u, cid, { content: `c${i}` })));
      const got = sent.map((m) => m.seq).sort((a, b) => a - b);
      expect(got).toEqual(range(3, 2 + senders.length));
      expect(seqs(await history(owner, cid))).toEqual(range(1, 2 + senders.length));
    });

    it('sanitises HTML: no script, no event handlers, no javascript: links', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const msg = await send(owner, cid, {
        type: 'html',
        content:
          '<p onclick="steal()">Hello <b>world</b><script>alert(1)</script>' +
          '<a href="javascript:alert(2)">bad</a> <a href="https://example.com/x">good</a>' +
          '<img src="https://example.com/i.png" onerror="alert(3)"><iframe src="https://evil.example"></iframe>' +
          '<span style="background:url(javascript:alert(4))">s</span></p>',
      });
      expect(msg.type).toBe('html');
      const lower = msg.content.toLowerCase();
      for (const banned of ['<script', 'alert(1)', 'onclick', 'onerror', 'javascript:', '<iframe', 'style=']) {
        expect(lower).not.toContain(banned);
      }
      expect(msg.content).toContain('<b>world</b>');
      expect(msg.content).toContain('href="https://example.com/x"');
      expect((await owner.api.get(path(cid, msg.id))).body.content).toBe(msg.content);
      // Nothing left after sanitising is a blank message.
      expectError(await owner.api.post(path(cid), { type: 'html', content: '<script>alert(1)</script>' }), 400, 'bad_request', 'content');
    });

    it('shares third-party content; invalid share content is a 400', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const share = { title: 'A story', url: 'https://news.example.com/a?b=c', summary: 'What happened', publisher: 'News' };
      const msg = await send(owner, cid, { type: 'share', share });
      expect(msg.type).toBe('share');
      expect(msg.share).toEqual(share);
      expect(msg.content).toContain('A story');
      expect(msg.content).toContain('https://news.example.com/a?b=c');
      const withText = await send(owner, cid, { type: 'share', share: { title: 'T', url: 'http://x.example' }, content: 'look' });
      expect(withText.content).toBe('look');

      for (const url of ['not a url', 'ftp://files.example.com/x', 'javascript:alert(1)', '']) {
        expectError(await owner.api.post(path(cid), { type: 'share', share: { title: 'T', url } }), 400, 'bad_request');
      }
      expectError(await owner.api.post(path(cid), { type: 'share', share: { url: 'https://x.example' } }), 400, 'bad_request');
      expectError(await owner.api.post(path(cid), { type: 'share' }), 400, 'bad_request');
      expectError(
        await owner.api.post(path(cid), { type: 'share', share: { title: 'T', url: 'https://x.example', colour: 'red' } }),
        400,
        'bad_request',
      );
    });

    it('accepts metadata up to the limits and refuses more with 413', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const entries = (n: number) => Object.fromEntries(range(1, n).map((i) => [`k${i}`, 'v']));
      const ok = await send(owner, cid, { content: 'm', metadata: entries(limits.maxMetadataEntries) });
      expect(Object.keys(ok.metadata)).toHaveLength(limits.maxMetadataEntries);
      expectError(
        await owner.api.post(path(cid), { content: 'm', metadata: entries(limits.maxMetadataEntries + 1) }),
        413,
        'limit_exceeded',
        'metadata',
      );
      expectError(
        await owner.api.post(path(cid), { content: 'm', metadata: { big: 'x'.repeat(limits.maxMetadataBytes) } }),
        413,
        'limit_exceeded',
        'metadata',
      );
      // Keys are 1 to 256 characters.
      expectError(await owner.api.post(path(cid), { content: 'm', metadata: { '': 'v' } }), 400, 'bad_request', 'metadata');
      expectError(await owner.api.post(path(cid), { content: 'm', metadata: { ['k'.repeat(257)]: 'v' } }), 400, 'bad_request', 'metadata');
      expect((await send(owner, cid, { content: 'm', metadata: { ['k'.repeat(256)]: 'v' } })).metadata).toEqual({ ['k'.repeat(256)]: 'v' });
      expectError(await owner.api.post(path(cid), { content: 'm', metadata: { k: { nested: 'v' } } }), 400, 'bad_request');
    });

    it('uses senderDisplayName when given', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      expect((await send(owner, cid, { content: 'x', senderDisplayName: 'Weather Bot' })).senderDisplayName).toBe('Weather Bot');
      expectError(await owner.api.post(path(cid), { content: 'x', senderDisplayName: '' }), 400, 'bad_request', 'senderDisplayName');
    });

    it('refuses content over maxMessageLength (413) and blank or missing content (400)', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      expect((await send(owner, cid, { content: 'a'.repeat(limits.maxMessageLength) })).content).toHaveLength(limits.maxMessageLength);
      expectError(await owner.api.post(path(cid), { content: 'a'.repeat(limits.maxMessageLength + 1) }), 413, 'limit_exceeded', 'content');
      expectError(await owner.api.post(path(cid), { content: '   \n\t ' }), 400, 'bad_request', 'content');
      expectError(await owner.api.post(path(cid), { content: '' }), 400, 'bad_request');
      expectError(await owner.api.post(path(cid), {}), 400, 'bad_request');
      expectError(await owner.api.post(path(cid), { content: 'x', type: 'system' }), 400, 'bad_request');
      expectError(await owner.api.post(path(cid), { content: 'x', colour: 'red' }), 400, 'bad_request');
      expectError(await owner.api.post(path(cid), '{"content":'), 400, 'bad_request');
      // NUL cannot be stored by PostgreSQL: every store refuses it alike, in content, metadata and ids.
      expectError(await owner.api.post(path(cid), { content: 'a\u0000b' }), 400, 'bad_request', 'content');
      expectError(await owner.api.post(path(cid), { content: 'x', metadata: { k: '\u0000' } }), 400, 'bad_request', 'metadata.k');
      expectError(await owner.api.get(path(cid, '%00')), 400, 'bad_request', 'messageId');
      expect(seqs(await history(owner, cid))).toEqual([1, 2]);
    });

    it('answers 401 without a credential, 403 for a non-member of a public room, 404 for a private one or an unknown id', async () => {
      const [owner, stranger] = [await t.user(), await t.user()];
      const priv = await openRoom(owner);
      const pub = await openRoom(owner, [], { public: true });
      expectError(await t.anon.post(path(priv), { content: 'x' }), 401, 'unauthenticated');
      expectError(await stranger.api.post(path(pub), { content: 'x' }), 403, 'forbidden');
      expectError(await stranger.api.post(path(priv), { content: 'x' }), 404, 'not_found');
      expectError(await owner.api.post(path('cnv_doesnotexist'), { content: 'x' }), 404, 'not_found');
      // The admin key is no member: it may see the room but not post in it.
      expectError(await t.admin.post(path(priv), { content: 'x' }), 403, 'forbidden');
    });

    it('refuses visibleTo naming a non-member with 400', async () => {
      const [owner, stranger] = [await t.user(), await t.user()];
      const cid = await openRoom(owner);
      expectError(await owner.api.post(path(cid), { content: 'psst', visibleTo: stranger.user.id }), 400, 'bad_request', 'visibleTo');
      expectError(await owner.api.post(path(cid), { content: 'psst', visibleTo: 'usr_nobody' }), 400, 'bad_request', 'visibleTo');
      expect(seqs(await history(owner, cid))).toEqual([1]);
    });
  });

  describe('idempotent send', () => {
    it('replays the same Repeatability-Request-Id: same message, Idempotent-Replayed, one message stored', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const headers = { 'Repeatability-Request-Id': `rr-${Math.random()}` };
      const a = await owner.api.post(path(cid), { content: 'once' }, headers);
      const b = await owner.api.post(path(cid), { content: 'once' }, headers);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(b.body).toEqual(a.body);
      expect(a.headers.get('idempotent-replayed')).toBeNull();
      expect(b.headers.get('idempotent-replayed')).toBe('true');
      expect((await history(owner, cid)).filter((m) => m.content === 'once')).toHaveLength(1);
    });

    it('replays the same idempotencyKey field, and the Idempotency-Key header', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const body = { content: 'field', idempotencyKey: 'k-field' };
      const a = await owner.api.post(path(cid), body);
      const b = await owner.api.post(path(cid), body);
      expect(b.body.id).toBe(a.body.id);
      expect(b.headers.get('idempotent-replayed')).toBe('true');
      const c = await owner.api.post(path(cid), { content: 'hdr' }, { 'Idempotency-Key': 'k-hdr' });
      const d = await owner.api.post(path(cid), { content: 'hdr' }, { 'Idempotency-Key': 'k-hdr' });
      expect(d.body.id).toBe(c.body.id);
      expect(seqs(await history(owner, cid))).toEqual([1, 2, 3]);
    });

    it('refuses the same key with a different body (409 conflict)', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const headers = { 'Repeatability-Request-Id': 'same-key' };
      expect((await owner.api.post(path(cid), { content: 'first' }, headers)).status).toBe(201);
      expectError(await owner.api.post(path(cid), { content: 'second' }, headers), 409, 'conflict');
      expectError(await owner.api.post(path(cid), { content: 'first', metadata: { a: 'b' } }, headers), 409, 'conflict');
      expect((await history(owner, cid)).map((m) => m.content).slice(1)).toEqual(['first']);
    });

    it('stores exactly one message for concurrent duplicates', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const headers = { 'Repeatability-Request-Id': `race-${Math.random()}` };
      const results = await Promise.all(range(1, 5).map(() => owner.api.post(path(cid), { content: 'race' }, headers)));
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      expect(results.filter((r) => r.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
      const items = await history(owner, cid);
      expect(items.filter((m) => m.content === 'race')).toHaveLength(1);
      expect(seqs(items)).toEqual([1, 2]);
    });

    it('keys belong to their sender and conversation', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const other = await openRoom(owner);
      const headers = { 'Repeatability-Request-Id': 'shared' };
      const a = await send(owner, cid, { content: 'x' }, headers);
      const b = await send(bob, cid, { content: 'x' }, headers);
      const c = await send(owner, other, { content: 'x' }, headers);
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    });

    it('refuses an over-long key with 400', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      expectError(await owner.api.post(path(cid), { content: 'x' }, { 'Repeatability-Request-Id': 'k'.repeat(201) }), 400, 'bad_request');
      expectError(await owner.api.post(path(cid), { content: 'x', idempotencyKey: '' }), 400, 'bad_request', 'idempotencyKey');
    });
  });

  describe('get one', () => {
    it('returns the message to a member; 401, 403, 404 otherwise', async () => {
      const [owner, bob, stranger] = [await t.user(), await t.user(), await t.user()];
      const pub = await openRoom(owner, [bob], { public: true });
      const priv = await openRoom(owner, [bob]);
      const msg = await send(owner, pub, { content: 'hello' });
      const privMsg = await send(owner, priv, { content: 'secret' });

      const got = await bob.api.get(path(pub, msg.id));
      expect(got.status).toBe(200);
      expect(got.body).toEqual(msg);
      expectError(await t.anon.get(path(pub, msg.id)), 401, 'unauthenticated');
      expectError(await stranger.api.get(path(pub, msg.id)), 403, 'forbidden');
      expectError(await stranger.api.get(path(priv, privMsg.id)), 404, 'not_found');
      expectError(await t.admin.get(path(priv, privMsg.id)), 403, 'forbidden');
      expectError(await bob.api.get(path(pub, 'msg_doesnotexist')), 404, 'not_found', 'messageId');
      // A message id from another conversation is not found here.
      expectError(await bob.api.get(path(pub, privMsg.id)), 404, 'not_found', 'messageId');
      expectError(await bob.api.get(path('cnv_doesnotexist', msg.id)), 404, 'not_found');
    });
  });

  describe('list', () => {
    it('lists newest first by default, oldest first with order=asc', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      for (let i = 1; i <= 4; i++) await send(owner, cid, { content: `m${i}` });
      const desc = await owner.api.get(path(cid));
      expect(desc.status).toBe(200);
      expect(seqs(desc.body.items)).toEqual([5, 4, 3, 2, 1]);
      expect(desc.body.nextCursor).toBeNull();
      const asc = await owner.api.get(`${path(cid)}?order=asc`);
      expect(seqs(asc.body.items)).toEqual([1, 2, 3, 4, 5]);
      expect(asc.body.items.slice(1).map((m: any) => m.content)).toEqual(['m1', 'm2', 'm3', 'm4']);
    });

    it('filters by before, after and startTime', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      for (let i = 1; i <= 6; i++) await send(owner, cid, { content: `m${i}` });
      const all = await history(owner, cid);
      expect(seqs((await owner.api.get(`${path(cid)}?before=4`)).body.items)).toEqual([3, 2, 1]);
      expect(seqs((await owner.api.get(`${path(cid)}?after=4`)).body.items)).toEqual([7, 6, 5]);
      expect(seqs((await owner.api.get(`${path(cid)}?after=2&before=6&order=asc`)).body.items)).toEqual([3, 4, 5]);
      expect(seqs((await owner.api.get(`${path(cid)}?after=0&order=asc&limit=2`)).body.items)).toEqual([1, 2]);
      expect((await owner.api.get(`${path(cid)}?after=7`)).body.items).toEqual([]);

      const start = all[3].createdAt as string;
      const since = await owner.api.get(`${path(cid)}?order=asc&startTime=${encodeURIComponent(start)}`);
      expect(since.status).toBe(200);
      const expected = all.filter((m) => Date.parse(m.createdAt) >= Date.parse(start));
      expect(since.body.items).toEqual(expected);
      expect(seqs(since.body.items)).toContain(4);
      const future = new Date(Date.parse(all[6].createdAt) + 60_000).toISOString();
      expect((await owner.api.get(`${path(cid)}?startTime=${encodeURIComponent(future)}`)).body.items).toEqual([]);
    });

    it('walks pages of 3 with nextCursor: the full list in order, no duplicates, and resumes from a saved cursor', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      for (let i = 1; i <= 10; i++) await send(owner, cid, { content: `p${i}` });
      for (const order of ['desc', 'asc'] as const) {
        const full = (await owner.api.get(`${path(cid)}?order=${order}&limit=${limits.maxPageSize}`)).body.items;
        expect(full).toHaveLength(11);
        const pages: any[][] = [];
        const cursors: string[] = [];
        let url = `${path(cid)}?order=${order}&limit=3`;
        for (;;) {
          const res = await owner.api.get(url);
          expect(res.status).toBe(200);
          expect(res.body.items.length).toBeLessThanOrEqual(3);
          pages.push(res.body.items);
          if (res.body.nextCursor === null) break;
          cursors.push(res.body.nextCursor);
          url = `${path(cid)}?limit=3&cursor=${encodeURIComponent(res.body.nextCursor)}`;
          expect(pages.length).toBeLessThan(20);
        }
        expect(pages.flat()).toEqual(full);
        expect(new Set(pages.flat().map((m) => m.id)).size).toBe(full.length);
        expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 2]);

        // Resume later from the second saved cursor: the same pages again.
        const resumed = await owner.api.get(`${path(cid)}?limit=3&cursor=${encodeURIComponent(cursors[1]!)}`);
        expect(resumed.body.items).toEqual(pages[2]);
      }
    });

    it('answers 413 over maxPageSize, 400 for bad parameters, 401/403/404 as usual', async () => {
      const [owner, stranger] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [], { public: true });
      const priv = await openRoom(owner);
      expectError(await owner.api.get(`${path(cid)}?limit=${limits.maxPageSize + 1}`), 413, 'limit_exceeded', 'limit');
      expect((await owner.api.get(`${path(cid)}?limit=${limits.maxPageSize}`)).status).toBe(200);
      expectError(await owner.api.get(`${path(cid)}?limit=0`), 400, 'bad_request', 'limit');
      expectError(await owner.api.get(`${path(cid)}?limit=two`), 400, 'bad_request', 'limit');
      expectError(await owner.api.get(`${path(cid)}?order=sideways`), 400, 'bad_request', 'order');
      expectError(await owner.api.get(`${path(cid)}?before=0`), 400, 'bad_request', 'before');
      expectError(await owner.api.get(`${path(cid)}?after=-1`), 400, 'bad_request', 'after');
      expectError(await owner.api.get(`${path(cid)}?startTime=yesterday`), 400, 'bad_request', 'startTime');
      // A leap second is a valid date-time that Date cannot read; seqs beyond 2^53 cannot be stored.
      expectError(await owner.api.get(`${path(cid)}?startTime=2016-12-31T23:59:60Z`), 400, 'bad_request', 'startTime');
      expectError(await owner.api.get(`${path(cid)}?after=9223372036854775808`), 400, 'bad_request', 'after');
      expectError(await owner.api.get(`${path(cid)}?before=${Number.MAX_SAFE_INTEGER + 2}`), 400, 'bad_request', 'before');
      expect((await owner.api.get(`${path(cid)}?after=${Number.MAX_SAFE_INTEGER}`)).body.items).toEqual([]);
      expectError(await owner.api.get(`${path(cid)}?cursor=garbage`), 400, 'bad_request', 'cursor');
      expectError(await owner.api.get(`${path(cid)}?cursor=${Buffer.from('{"o":"up"}').toString('base64url')}`), 400, 'bad_request', 'cursor');
      expectError(await t.anon.get(path(cid)), 401, 'unauthenticated');
      expectError(await stranger.api.get(path(cid)), 403, 'forbidden');
      expectError(await stranger.api.get(path(priv)), 404, 'not_found');
      expectError(await owner.api.get(path('cnv_doesnotexist')), 404, 'not_found');
    });
  });

  describe('edit', () => {
    it('lets the author edit: version goes up, editedAt is set, the new content is stored', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const msg = await send(bob, cid, { content: 'typo', metadata: { a: '1' } });
      const res = await bob.api.patch(path(cid, msg.id), { content: 'fixed' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: msg.id, seq: msg.seq, content: 'fixed', version: 2, metadata: { a: '1' }, deletedAt: null });
      expect(res.body.editedAt).not.toBeNull();
      const meta = await bob.api.patch(path(cid, msg.id), { metadata: { b: '2' } });
      expect(meta.body).toMatchObject({ content: 'fixed', version: 3, metadata: { b: '2' } });
      expect((await owner.api.get(path(cid, msg.id))).body).toEqual(meta.body);
    });

    it('lets only the author edit (403 for others, the owner and the admin key included)', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const msg = await send(bob, cid, { content: 'mine' });
      expectError(await owner.api.patch(path(cid, msg.id), { content: 'owner edit' }), 403, 'forbidden', 'messageId');
      expectError(await t.admin.patch(path(cid, msg.id), { content: 'admin edit' }), 403, 'forbidden');
      expectError(await t.anon.patch(path(cid, msg.id), { content: 'x' }), 401, 'unauthenticated');
      expect((await owner.api.get(path(cid, msg.id))).body.content).toBe('mine');
    });

    it('re-sanitises HTML on edit', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const msg = await send(owner, cid, { type: 'html', content: '<b>hi</b>' });
      const res = await owner.api.patch(path(cid, msg.id), { content: '<i onmouseover="x()">there</i><script>evil()</script>' });
      expect(res.status).toBe(200);
      expect(res.body.content).toBe('<i>there</i>');
      expectError(await owner.api.patch(path(cid, msg.id), { content: '<script>evil()</script>' }), 400, 'bad_request', 'content');
    });

    it('refuses to edit a deleted message (409), a share\'s text (400), bad bodies (400) and over-limit content (413)', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const msg = await send(owner, cid, { content: 'soon gone' });
      expectError(await owner.api.patch(path(cid, msg.id), {}), 400, 'bad_request');
      expectError(await owner.api.patch(path(cid, msg.id), { content: '' }), 400, 'bad_request');
      expectError(await owner.api.patch(path(cid, msg.id), { content: '  ' }), 400, 'bad_request', 'content');
      expectError(await owner.api.patch(path(cid, msg.id), { type: 'html' }), 400, 'bad_request');
      expectError(await owner.api.patch(path(cid, msg.id), { content: 'a'.repeat(limits.maxMessageLength + 1) }), 413, 'limit_exceeded');
      const tooMany = Object.fromEntries(range(0, limits.maxMetadataEntries).map((i) => [`k${i}`, 'v']));
      expectError(await owner.api.patch(path(cid, msg.id), { metadata: tooMany }), 413, 'limit_exceeded', 'metadata');
      const share = await send(owner, cid, { type: 'share', share: { title: 'T', url: 'https://x.example' } });
      expectError(await owner.api.patch(path(cid, share.id), { content: 'new text' }), 400, 'bad_request', 'content');
      expect((await owner.api.delete(path(cid, msg.id))).status).toBe(204);
      expectError(await owner.api.patch(path(cid, msg.id), { content: 'back' }), 409, 'conflict');
      expect((await owner.api.get(path(cid, msg.id))).body.content).toBe('');
    });

    it('answers 404 for unknown ids and for non-members of a private room', async () => {
      const [owner, stranger] = [await t.user(), await t.user()];
      const cid = await openRoom(owner);
      const msg = await send(owner, cid, { content: 'x' });
      expectError(await owner.api.patch(path(cid, 'msg_doesnotexist'), { content: 'y' }), 404, 'not_found', 'messageId');
      expectError(await stranger.api.patch(path(cid, msg.id), { content: 'y' }), 404, 'not_found');
      expectError(await owner.api.patch(path('cnv_doesnotexist', msg.id), { content: 'y' }), 404, 'not_found');
    });
  });

  describe('delete', () => {
    it('leaves a tombstone with the same seq, empty content and deletedAt; deleting twice is 204 both times', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const msg = await send(bob, cid, { content: 'regret', metadata: { k: 'v' } });
      const after = await send(bob, cid, { content: 'after' });
      expect((await bob.api.delete(path(cid, msg.id))).status).toBe(204);
      expect((await bob.api.delete(path(cid, msg.id))).status).toBe(204);
      const got = await owner.api.get(path(cid, msg.id));
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: msg.id, seq: msg.seq, content: '', metadata: {}, senderId: bob.user.id });
      expect(got.body.deletedAt).not.toBeNull();
      const items = await history(owner, cid);
      expect(seqs(items)).toEqual(range(1, after.seq));
      expect(items.find((m) => m.id === msg.id)).toEqual(got.body);
      expect(JSON.stringify(items)).not.toContain('regret');
    });

    it('lets a room owner delete another\'s message, but not a plain member', async () => {
      const [owner, bob, carol] = [await t.user(), await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob, carol]);
      const bobs = await send(bob, cid, { content: 'bob says' });
      expectError(await carol.api.delete(path(cid, bobs.id)), 403, 'forbidden', 'messageId');
      expect((await carol.api.get(path(cid, bobs.id))).body.deletedAt).toBeNull();
      expect((await owner.api.delete(path(cid, bobs.id))).status).toBe(204);
      expect((await carol.api.get(path(cid, bobs.id))).body.deletedAt).not.toBeNull();
    });

    it('lets the admin key delete any message; an admin user with a chat-only token is a plain member', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const adminUser = await t.user({ admin: true });
      const cid = await openRoom(owner, [bob]);
      const tokenRes = await t.admin.post(`/v1/users/${adminUser.user.id}/tokens`, { scopes: ['chat'] });
      const chatOnly = t.anon.as(tokenRes.body.token);
      expect((await owner.api.post(`/v1/conversations/${cid}/members`, { members: [adminUser.user.id] })).status).toBe(200);
      const bobs = await send(bob, cid, { content: 'moderate me' });
      expectError(await chatOnly.delete(path(cid, bobs.id)), 403, 'forbidden');
      expect((await t.admin.delete(path(cid, bobs.id))).status).toBe(204);
      expect((await owner.api.get(path(cid, bobs.id))).body.deletedAt).not.toBeNull();
    });

    it('never edits or deletes system messages (403), not even the owner or the admin key', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const [created] = await history(owner, cid);
      expect(created.type).toBe('system');
      expectError(await owner.api.patch(path(cid, created.id), { content: 'rewritten' }), 403, 'forbidden');
      expectError(await owner.api.delete(path(cid, created.id)), 403, 'forbidden');
      expectError(await t.admin.delete(path(cid, created.id)), 403, 'forbidden');
      expect((await owner.api.get(path(cid, created.id))).body).toEqual(created);
    });

    it('answers 401, 404 for unknown ids and for non-members of a private room', async () => {
      const [owner, stranger] = [await t.user(), await t.user()];
      const cid = await openRoom(owner);
      const msg = await send(owner, cid, { content: 'x' });
      expectError(await t.anon.delete(path(cid, msg.id)), 401, 'unauthenticated');
      expectError(await owner.api.delete(path(cid, 'msg_doesnotexist')), 404, 'not_found', 'messageId');
      expectError(await stranger.api.delete(path(cid, msg.id)), 404, 'not_found');
      expect((await owner.api.get(path(cid, msg.id))).body.deletedAt).toBeNull();
    });
  });

  describe('room rules', () => {
    it('read-only room: members cannot post (403), owners can', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob], { readOnly: true });
      expectError(await bob.api.post(path(cid), { content: 'may I?' }), 403, 'forbidden');
      expect((await send(owner, cid, { content: 'announcement' })).content).toBe('announcement');
      expect((await history(bob, cid)).map((m) => m.content)).toContain('announcement');
    });

    it('deactivated room: posting, editing and deleting are 409, reading works, reactivating restores', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const before = await send(bob, cid, { content: 'before' });
      expectError(await bob.api.post(`/v1/conversations/${cid}/deactivate`), 403, 'forbidden');
      const off = await owner.api.post(`/v1/conversations/${cid}/deactivate`);
      expect(off.status).toBe(200);
      expect(off.body.active).toBe(false);
      expectError(await bob.api.post(path(cid), { content: 'hello?' }), 409, 'conflict');
      expectError(await owner.api.post(path(cid), { content: 'hello?' }), 409, 'conflict');
      expectError(await bob.api.patch(path(cid, before.id), { content: 'edit' }), 409, 'conflict');
      expectError(await bob.api.delete(path(cid, before.id)), 409, 'conflict');
      const read = await history(bob, cid);
      expect(read.map((m) => m.content)).toContain('before');
      expect((await bob.api.get(path(cid, before.id))).status).toBe(200);

      const on = await owner.api.post(`/v1/conversations/${cid}/reactivate`);
      expect(on.status).toBe(200);
      expect(on.body.active).toBe(true);
      const again = await send(bob, cid, { content: 'back' });
      expect(seqs(await history(owner, cid))).toEqual(range(1, again.seq));
      expect((await history(owner, cid)).filter((m) => m.type === 'system').map((m) => m.system.event)).toEqual([
        'conversation.created',
        'member.added',
        'conversation.deactivated',
        'conversation.reactivated',
      ]);
    });
  });

  describe('who sees what', () => {
    it('a member added to a room hiding history does not see earlier messages', async () => {
      const [owner, late] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [], { historyVisibleToNewMembers: false });
      const early = await send(owner, cid, { content: 'before you came' });
      const added = await owner.api.post(`/v1/conversations/${cid}/members`, { members: [late.user.id] });
      expect(added.status).toBe(200);
      expect(added.body.added[0].historyFrom).not.toBeNull();
      const later = await send(owner, cid, { content: 'welcome' });

      const seen = await history(late, cid);
      expect(seen.map((m) => m.id)).not.toContain(early.id);
      // What it sees starts with its own arrival.
      expect(seen.map((m) => m.type)).toEqual(['system', 'text']);
      expect(seen[0].system).toMatchObject({ event: 'member.added', userIds: [late.user.id] });
      expect(seen[1].id).toBe(later.id);
      expectError(await late.api.get(path(cid, early.id)), 404, 'not_found', 'messageId');
      expect((await late.api.get(path(cid, later.id))).status).toBe(200);
      // Nor can it touch what it cannot see.
      expectError(await late.api.delete(path(cid, early.id)), 404, 'not_found');
    });

    it('a member added to a room showing history sees everything', async () => {
      const [owner, late] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [], { historyVisibleToNewMembers: true });
      const early = await send(owner, cid, { content: 'old news' });
      const added = await owner.api.post(`/v1/conversations/${cid}/members`, { members: [late.user.id] });
      expect(added.body.added[0].historyFrom).toBeNull();
      expect(await history(late, cid)).toEqual(await history(owner, cid));
      expect((await late.api.get(path(cid, early.id))).body.content).toBe('old news');
    });

    it('an explicit historyFrom hides messages sent before it', async () => {
      const [owner, late] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [], { historyVisibleToNewMembers: true });
      const early = await send(owner, cid, { content: 'hidden' });
      await send(owner, cid, { content: 'maybe' });
      const from = new Date(Date.parse(early.createdAt) + 1).toISOString();
      const added = await owner.api.post(`/v1/conversations/${cid}/members`, { members: [{ userId: late.user.id, historyFrom: from }] });
      expect(added.status).toBe(200);
      expect(added.body.added[0].historyFrom).toBe(from);
      const all = await history(owner, cid);
      const seen = await history(late, cid);
      expect(seen).toEqual(all.filter((m) => Date.parse(m.createdAt) >= Date.parse(from)));
      expect(seen.map((m) => m.id)).not.toContain(early.id);
      expectError(await late.api.get(path(cid, early.id)), 404, 'not_found');
      expectError(
        await owner.api.post(`/v1/conversations/${cid}/members`, { members: [{ userId: late.user.id, historyFrom: 'last week' }] }),
        400,
        'bad_request',
      );
      expectError(
        await owner.api.post(`/v1/conversations/${cid}/members`, { members: [{ userId: late.user.id, historyFrom: '2016-12-31T23:59:60Z' }] }),
        400,
        'bad_request',
        'historyFrom',
      );
    });

    it('a message with visibleTo reaches only that member and its sender', async () => {
      const [owner, bob, carol] = [await t.user(), await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob, carol]);
      const whisper = await send(owner, cid, { content: 'for bob only', visibleTo: bob.user.id });
      expect(whisper.visibleTo).toBe(bob.user.id);
      const shout = await send(owner, cid, { content: 'for all' });

      expect((await history(owner, cid)).map((m) => m.id)).toContain(whisper.id);
      expect((await history(bob, cid)).map((m) => m.id)).toContain(whisper.id);
      const carolSees = await history(carol, cid);
      expect(carolSees.map((m) => m.id)).not.toContain(whisper.id);
      expect(carolSees.map((m) => m.id)).toContain(shout.id);
      expect(JSON.stringify(carolSees)).not.toContain('for bob only');
      expect((await bob.api.get(path(cid, whisper.id))).body.content).toBe('for bob only');
      expectError(await carol.api.get(path(cid, whisper.id)), 404, 'not_found', 'messageId');
      // Carol, not seeing it, cannot delete it either; the owner who sent it can.
      expectError(await carol.api.delete(path(cid, whisper.id)), 404, 'not_found');
    });
  });
});
