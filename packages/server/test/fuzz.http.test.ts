import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

// Property-based robustness of the REST door against a real server: whatever arrives (random JSON,
// broken JSON, odd paths, odd queries, odd credentials, odd content types), the answer is a 2xx or a
// 4xx with the standard error body whose code matches the status. Never a 5xx.

const STORES = await storeImpls();

/** The client errors the API may answer with, and the status each maps to. */
const CLIENT_ERRORS: Record<string, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  limit_exceeded: 413,
};

interface Sent {
  method: string;
  path: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

const describeSent = (s: Sent) =>
  `${s.method} ${s.path.slice(0, 300)} ${JSON.stringify(s.headers ?? {}).slice(0, 300)} ${
    typeof s.body === 'string' ? s.body.slice(0, 300) : s.body ? `<${s.body.length} bytes>` : ''
  }`;

/** Fails unless the answer is a 2xx, or a 4xx carrying `{"error":{"code","message",…}}` with a matching code. */
function checkAnswer(sent: Sent, status: number, contentType: string, text: string): void {
  const where = `${describeSent(sent)} → ${status} ${text.slice(0, 500)}`;
  if (status >= 200 && status < 300) {
    if (contentType.includes('json') && text !== '') expect(() => JSON.parse(text), where).not.toThrow();
    return;
  }
  expect(status, where).toBeGreaterThanOrEqual(400);
  expect(status, where).toBeLessThan(500);
  expect(contentType, where).toContain('application/json');
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; target?: unknown; details?: unknown } };
  const error = body.error;
  expect(typeof error, where).toBe('object');
  expect(Object.keys(body), where).toEqual(['error']);
  expect(Object.keys(CLIENT_ERRORS), where).toContain(error!.code);
  expect(CLIENT_ERRORS[error!.code as string], where).toBe(status);
  expect(typeof error!.message, where).toBe('string');
  expect((error!.message as string).length, where).toBeGreaterThan(0);
  if (error!.target !== undefined) expect(typeof error!.target, where).toBe('string');
  if (error!.details !== undefined) expect(Array.isArray(error!.details), where).toBe(true);
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/** Printable ASCII: what an HTTP header value can carry. */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

/** Strings that are rarely valid JSON: fragments, nulls, prototype tricks, deep nesting, huge text. */
const textBody = fc.oneof(
  { arbitrary: fc.string({ maxLength: 200 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 100 }), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '{',
      '{"',
      '[',
      'null',
      'true',
      '0',
      '"string"',
      '{"a":}',
      '\u0000',
      '{"content":"x"',
      '{"content":"\\ud800"}',
      '{"content":"x"}}',
      '{"__proto__":{"admin":true},"content":"x"}',
      '{"constructor":{"prototype":{"admin":true}},"content":"x"}',
      `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
      `{"content":"${'x'.repeat(100_000)}"}`,
      'x'.repeat(1024 * 1024 + 10),
    ),
    weight: 2,
  },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => `${JSON.stringify(v) ?? 'null'}${'}'}`), weight: 1 },
);

/** Ids in paths: arbitrary text, unicode, very long, dot segments and percent-encoded garbage. */
const pathId = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '%00',
      '%2F',
      '%2e%2e',
      '%',
      '%zz',
      '%E0%A4%A',
      '%C0%AF',
      '%FF%FE',
      'me',
      'usr_admin',
      'usr_system',
      'a'.repeat(101),
      'a'.repeat(201),
      'x'.repeat(5000),
      ' ',
      '\u0000',
      'null',
      'undefined',
      '__proto__',
      'constructor',
      'cnv_00000000000000000000000000',
    ),
    weight: 2,
  },
);

/** A query value: numbers at the edges, words, garbage. */
const queryValue = fc.oneof(
  fc.constantFrom('', 'NaN', '-1', '0', '1', '3', '200', '201', '1e309', '99999999999999999999', '-0', '1.5', '0x10', 'true', 'false', 'null', 'asc', 'desc', 'room', 'bot', 'created', 'activity', '2020-01-01T00:00:00Z', '2016-12-31T23:59:60Z', '0000-01-01T00:00:00Z', 'not-a-date', '9223372036854775808', '9007199254740993', '[]', '{}'),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.base64String({ maxLength: 60 }),
);
const queryKey = fc.oneof(
  { arbitrary: fc.constantFrom('limit', 'skip', 'cursor', 'before', 'after', 'startTime', 'order', 'kind', 'active', 'updatedSince', 'title', 'sort', 'handle', 'disabled', 'visibility', 'mine', 'name', 'status', 'limit[]', 'limit[0]', '__proto__', 'constructor'), weight: 4 },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
);
const queryPairs = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 6 });

/** Sets (or, with `undefined`, removes) the value at `path` in a copy of `base`, making objects on the way. */
function mutate(base: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const copy: Record<string, unknown> =
    Array.isArray(base) ? ([...base] as unknown as Record<string, unknown>) : typeof base === 'object' && base !== null ? { ...(base as Record<string, unknown>) } : {};
  const next = mutate(copy[head], rest, value);
  if (next === undefined && rest.length === 0) delete copy[head];
  else copy[head] = next;
  return copy;
}

describe.each(STORES)('$name: fuzzing the REST API', (impl) => {
  let t: TestServer;
  let owner: TestUser;
  let member: TestUser;
  let stranger: TestUser;
  let victim: TestUser;
  // A bot whose webhook is fuzzed: it is in no conversation, so nothing is ever delivered anywhere.
  let hookBot: TestUser;
  let cid: string;
  let mid: string;
  let gid: string;

  beforeAll(async () => {
    // The fixture users send hundreds of messages here: rate limiting is not what this file tests.
    t = await startTestServer(impl, { PARLEY_MESSAGE_RATE_PER_SECOND: '1000000', PARLEY_MESSAGE_BURST: '1000000' });
    [owner, member, stranger, victim] = [await t.user(), await t.user(), await t.user(), await t.user()];
    const room = await owner.api.post('/v1/conversations', { kind: 'room', title: 'Fuzz', members: [member.user.id, victim.user.id] });
    expect(room.status, JSON.stringify(room.body)).toBe(201);
    cid = room.body.conversation.id;
    mid = (await owner.api.post(`/v1/conversations/${cid}/messages`, { content: 'pin me' })).body.id;
    gid = (await owner.api.post('/v1/groups', { name: 'Fuzz group', visibility: 'public', members: [member.user.id] })).body.group.id;
    hookBot = await t.user({ kind: 'bot' });
    expect((await hookBot.api.request('PUT', '/v1/users/me/webhook', { url: 'http://127.0.0.1:9/hook' })).status).toBe(200);
  });
  afterAll(() => t.close());

  const bearer = (u: TestUser | 'admin') => ({ authorization: `Bearer ${u === 'admin' ? t.adminKey : u.token}` });

  /** Sends exactly what it is given (no client-side fixing up) and checks the answer. */
  async function hit(sent: Sent): Promise<number> {
    const res = await fetch(t.url + sent.path, {
      method: sent.method,
      headers: sent.headers ?? {},
      ...(sent.body !== undefined ? { body: sent.body } : {}),
    });
    const text = await res.text();
    checkAnswer(sent, res.status, res.headers.get('content-type') ?? '', text);
    return res.status;
  }

  /** Every endpoint that takes a body, with who calls it and a valid body to start mutating from. */
  function bodyEndpoints(): { method: string; path: string; as: TestUser | 'admin' | null; valid: unknown }[] {
    return [
      {
        method: 'POST',
        path: '/v1/conversations',
        as: owner,
        valid: {
          kind: 'room',
          title: 'T',
          description: 'd',
          keywords: ['k'],
          public: false,
          discoverable: false,
          readOnly: false,
          membersCanInvite: true,
          historyVisibleToNewMembers: true,
          metadata: { a: 'b' },
          members: [member.user.id, { userId: stranger.user.id, role: 'member', historyFrom: '2020-01-01T00:00:00Z' }],
          message: { content: 'hi', metadata: { x: 'y' }, visibleTo: member.user.id },
        },
      },
      { method: 'POST', path: '/v1/conversations', as: owner, valid: { kind: 'group', members: [member.user.id, stranger.user.id], groups: [gid], message: { type: 'html', content: '<b>x</b>' } } },
      { method: 'POST', path: '/v1/conversations', as: 'admin', valid: { kind: 'direct', members: [member.user.id, stranger.user.id], includeCreator: false } },
      {
        method: 'POST',
        path: `/v1/conversations/${cid}/messages`,
        as: owner,
        valid: { type: 'text', content: 'hi', metadata: { a: 'b' }, senderDisplayName: 'S', visibleTo: member.user.id },
      },
      {
        method: 'POST',
        path: `/v1/conversations/${cid}/messages`,
        as: member,
        valid: {
          type: 'share',
          share: { title: 't', url: 'https://e.example/', summary: 's', imageUrl: 'https://i.example/a.png', publisher: 'p', author: 'a', publishedAt: '2020-01-01T00:00:00Z' },
        },
      },
      { method: 'PATCH', path: `/v1/conversations/${cid}/messages/${mid}`, as: owner, valid: { content: 'edited', metadata: { a: 'b' } } },
      {
        method: 'PATCH',
        path: `/v1/conversations/${cid}`,
        as: owner,
        valid: { title: 'T2', description: 'd', keywords: ['a'], metadata: {}, pinnedMessageId: mid, readOnly: false, historyVisibleToNewMembers: true },
      },
      {
        method: 'POST',
        path: `/v1/conversations/${cid}/members`,
        as: owner,
        valid: { members: [stranger.user.id, { userId: stranger.user.id, role: 'owner', historyFrom: '2020-01-01T00:00:00Z' }] },
      },
      { method: 'PATCH', path: `/v1/conversations/${cid}/members/${victim.user.id}`, as: owner, valid: { role: 'member' } },
      { method: 'POST', path: '/v1/users', as: 'admin', valid: { kind: 'human', handle: 'fuzzy', displayName: 'F', description: '', admin: false } },
      { method: 'PATCH', path: `/v1/users/${victim.user.id}`, as: 'admin', valid: { displayName: 'V', description: 'd', disabled: false } },
      { method: 'POST', path: `/v1/users/${victim.user.id}/tokens`, as: 'admin', valid: { scopes: ['chat'], expiresInSeconds: 3600 } },
      { method: 'POST', path: '/v1/users/me/api-keys', as: stranger, valid: { name: 'k' } },
      { method: 'POST', path: '/v1/groups', as: owner, valid: { name: 'G', description: 'd', visibility: 'public', members: [member.user.id] } },
      { method: 'PATCH', path: `/v1/groups/${gid}`, as: owner, valid: { name: 'G2', description: 'd2', visibility: 'public' } },
      { method: 'POST', path: `/v1/groups/${gid}/members`, as: owner, valid: { members: [stranger.user.id] } },
      { method: 'PUT', path: '/v1/users/me/webhook', as: hookBot, valid: { url: 'http://127.0.0.1:9/hook', events: ['message.created'], active: false, rotateSecret: false } },
      { method: 'POST', path: '/v1/auth/login', as: null, valid: { handle: 'nobody-here', password: 'x', scopes: ['chat'], expiresInSeconds: 3600 } },
    ];
  }

  const endpointIndex = () => fc.nat({ max: bodyEndpoints().length - 1 });

  function jsonRequest(e: ReturnType<typeof bodyEndpoints>[number], body: string): Sent {
    return { method: e.method, path: e.path, body, headers: { 'content-type': 'application/json', ...(e.as === null ? {} : bearer(e.as)) } };
  }

  it('answers arbitrary JSON bodies with a 2xx or a standard 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(endpointIndex(), fc.jsonValue({ maxDepth: 4 }), async (i, value) => {
        await hit(jsonRequest(bodyEndpoints()[i]!, JSON.stringify(value) ?? 'null'));
      }),
      { numRuns: 150 },
    );
  });

  it('answers malformed and oversized bodies with a 2xx or a standard 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(endpointIndex(), textBody, async (i, body) => {
        await hit(jsonRequest(bodyEndpoints()[i]!, body));
      }),
      { numRuns: 100 },
    );
    // Over the body limit is a 413 in the standard shape, whatever the endpoint.
    const huge = JSON.stringify({ content: 'x'.repeat(1024 * 1024) });
    for (const e of bodyEndpoints()) expect(await hit(jsonRequest(e, huge))).toBe(413);
  });

  it('answers valid bodies with one field replaced by a random value with a 2xx or a standard 4xx', async () => {
    const keys = fc.constantFrom(
      'kind', 'title', 'description', 'keywords', 'public', 'readOnly', 'membersCanInvite', 'historyVisibleToNewMembers', 'metadata',
      'members', 'message', 'includeCreator', 'idempotencyKey', 'type', 'content', 'share', 'visibleTo', 'senderDisplayName',
      'pinnedMessageId', 'role', 'userId', 'historyFrom', 'handle', 'password', 'admin', 'disabled', 'scopes', 'expiresInSeconds',
      'name', 'url', 'imageUrl', 'publishedAt', 'groups', 'visibility', 'events', 'active', 'rotateSecret', 'a', '0', '1',
    );
    const path = fc.array(fc.oneof({ arbitrary: keys, weight: 4 }, { arbitrary: fc.string({ maxLength: 6 }), weight: 1 }), { minLength: 1, maxLength: 3 });
    const value = fc.oneof(
      { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 4 },
      { arbitrary: fc.constant(undefined), weight: 1 },
      { arbitrary: fc.constantFrom('', ' ', 'x'.repeat(30_000), '\u0000', '<script>x</script>', 'javascript:alert(1)', '2016-12-31T23:59:60Z', -1, 0, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}, null), weight: 2 },
    );
    await fc.assert(
      fc.asyncProperty(endpointIndex(), path, value, async (i, where, v) => {
        const e = bodyEndpoints()[i]!;
        await hit(jsonRequest(e, JSON.stringify(mutate(e.valid, where, v)) ?? 'null'));
      }),
      { numRuns: 250 },
    );
  });

  it('answers arbitrary ids in paths, encoded or raw, with a 2xx or a standard 4xx', async () => {
    const routes: ((x: string) => Sent)[] = [
      (x) => ({ method: 'GET', path: `/v1/conversations/${x}`, headers: bearer(owner) }),
      (x) => ({ method: 'GET', path: `/v1/conversations/${x}/messages`, headers: bearer(owner) }),
      (x) => ({ method: 'GET', path: `/v1/conversations/${cid}/messages/${x}`, headers: bearer(owner) }),
      (x) => ({ method: 'PATCH', path: `/v1/conversations/${cid}/messages/${x}`, headers: { ...bearer(owner), 'content-type': 'application/json' }, body: '{"content":"x"}' }),
      (x) => ({ method: 'DELETE', path: `/v1/conversations/${cid}/messages/${x}`, headers: bearer(member) }),
      (x) => ({ method: 'GET', path: `/v1/conversations/${x}/events?after=0`, headers: bearer(owner) }),
      (x) => ({ method: 'GET', path: `/v1/conversations/${x}/members`, headers: bearer(owner) }),
      (x) => ({ method: 'GET', path: `/v1/conversations/${cid}/members/${x}`, headers: bearer(owner) }),
      (x) => ({ method: 'POST', path: `/v1/conversations/${x}/join`, headers: bearer(stranger) }),
      (x) => ({ method: 'POST', path: `/v1/conversations/${x}/deactivate`, headers: bearer(stranger) }),
      (x) => ({ method: 'GET', path: `/v1/users/${x}`, headers: bearer(owner) }),
      (x) => ({ method: 'GET', path: `/v1/users/${x}/api-keys`, headers: bearer(owner) }),
      (x) => ({ method: 'DELETE', path: `/v1/users/me/api-keys/${x}`, headers: bearer(owner) }),
      (x) => ({ method: 'POST', path: `/v1/users/${x}/tokens`, headers: bearer('admin') }),
      (x) => ({ method: 'GET', path: `/v1/groups/${x}`, headers: bearer(owner) }),
      (x) => ({ method: 'GET', path: `/v1/groups/${x}/members`, headers: bearer(member) }),
      (x) => ({ method: 'DELETE', path: `/v1/groups/${gid}/members/${x}`, headers: bearer(stranger) }),
      (x) => ({ method: 'GET', path: `/v1/users/${x}/webhook/deliveries`, headers: bearer('admin') }),
      (x) => ({ method: 'POST', path: `/v1/users/me/webhook/deliveries/${x}/retry`, headers: bearer(hookBot) }),
      (x) => ({ method: 'GET', path: `/v1/${x}`, headers: bearer(owner) }),
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: routes.length - 1 }), pathId, fc.boolean(), async (r, id, raw) => {
        const x = raw ? id : encodeURIComponent(id);
        // Ids of the caller itself would make the property act on the fixture users.
        fc.pre(x !== 'me' || r !== 12);
        await hit(routes[r]!(x));
      }),
      { numRuns: 200 },
    );
    // Bad percent-encoding is refused before routing, still in the standard shape.
    for (const bad of ['%zz', '%FF%FE', '%E0%A4%A']) {
      const res = await owner.api.get(`/v1/conversations/${bad}`);
      expect([res.status, res.body.error.code, res.body.error.target]).toEqual([400, 'bad_request', 'url']);
    }
  });

  it('answers arbitrary query strings on list endpoints with a 2xx or a standard 4xx', async () => {
    const lists = [
      '/v1/conversations',
      `/v1/conversations/${cid}/messages`,
      `/v1/conversations/${cid}/members`,
      `/v1/conversations/${cid}/events`,
      '/v1/users',
      '/v1/groups',
      `/v1/groups/${gid}/members`,
      '/v1/webhook-deliveries',
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: lists.length - 1 }), queryPairs, fc.boolean(), async (l, pairs, raw) => {
        const query = raw
          ? pairs.map(([k, v]) => `${k}=${v}`).join('&')
          : new URLSearchParams(pairs).toString();
        await hit({ method: 'GET', path: `${lists[l]!}?${query}`, headers: bearer(owner) });
      }),
      { numRuns: 200 },
    );
  });

  it('answers arbitrary Authorization headers with a standard 401 (or success for a real credential)', async () => {
    const realToken = () => owner.token;
    const header = fc.oneof(
      headerText(200),
      headerText(200).map((s) => `Bearer ${s}`),
      fc.tuple(fc.base64String({ maxLength: 40 }), fc.base64String({ maxLength: 80 }), fc.base64String({ maxLength: 40 })).map(([a, b, c]) => `Bearer ${a}.${b}.${c}`),
      fc.nat({ max: 200 }).map((n) => `Bearer ${realToken().slice(0, n)}`),
      fc.nat({ max: 40 }).map((n) => `Bearer ${realToken()}${'A'.repeat(n)}`),
      fc.constantFrom('Bearer', 'Bearer ', 'bearer x', 'Basic YWRtaW46YWRtaW4=', 'Bearer a b', `Bearer ${'x'.repeat(8000)}`, 'Bearer pk_', 'Bearer ...', 'Bearer ..'),
    );
    const paths = fc.constantFrom('/v1/me', '/v1/conversations', `/v1/conversations/${cid}/messages`, '/v1/users', '/v1/auth/token');
    await fc.assert(
      fc.asyncProperty(header, paths, async (authorization, path) => {
        const method = path === '/v1/auth/token' ? 'POST' : 'GET';
        const status = await hit({ method, path, headers: { authorization } });
        expect([200, 400, 401]).toContain(status);
      }),
      { numRuns: 150 },
    );
  });

  it('answers wrong or missing content types with a 2xx or a standard 4xx', async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        undefined,
        'text/plain',
        'text/plain; charset=utf-8',
        'multipart/form-data; boundary=xyz',
        'multipart/form-data',
        'application/x-www-form-urlencoded',
        'application/json',
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/vnd.api+json',
        'application/octet-stream',
        'application/xml',
        '',
        ';',
        'application/',
      ),
      headerText(40),
    );
    const body = fc.oneof(
      fc.constant('{"content":"typed"}'),
      fc.constant('--xyz\r\nContent-Disposition: form-data; name="content"\r\n\r\nhello\r\n--xyz--\r\n'),
      fc.constant('content=hello'),
      textBody.filter((s) => s.length < 10_000),
    );
    await fc.assert(
      fc.asyncProperty(endpointIndex(), contentType, body, async (i, type, text) => {
        const e = bodyEndpoints()[i]!;
        const headers: Record<string, string> = e.as === null ? {} : bearer(e.as);
        // A Uint8Array body makes fetch send no Content-Type at all.
        if (type === undefined) await hit({ method: e.method, path: e.path, headers, body: new TextEncoder().encode(text) });
        else await hit({ method: e.method, path: e.path, headers: { ...headers, 'content-type': type }, body: text });
      }),
      { numRuns: 150 },
    );
  });

  it('is still healthy and consistent after the fuzzing', async () => {
    expect((await t.anon.get('/health')).status).toBe(200);
    expect((await owner.api.get('/v1/me')).status).toBe(200);
    const sent = await owner.api.post(`/v1/conversations/${cid}/messages`, { content: 'still here' });
    expect(sent.status).toBe(201);
    // Whatever got through, the owner's view stayed dense (no fuzzed whisper can name a fixture user id).
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await owner.api.get(
        `/v1/conversations/${cid}/messages?order=asc&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      seqs.push(...page.body.items.map((m: any) => m.seq));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seqs).toEqual(Array.from({ length: sent.body.seq }, (_, i) => i + 1));
  });
});
