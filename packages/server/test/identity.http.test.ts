import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt } from 'jose';
import { startTestServer, type Api, type ApiResponse, type TestServer } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

// Identity over REST: who may call what, with which credential. Every test makes its own users.

const STORES = await storeImpls();

/** Asserts the standard error body with this status and code (and target, when given). */
function expectError(res: ApiResponse<any>, status: number, code: string, target?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body?.error?.code, JSON.stringify(res.body)).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  if (target !== undefined) expect(res.body.error.target).toBe(target);
}

const uniq = (prefix: string) => `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

describe.each(STORES)('$name: identity over HTTP', (impl) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(impl);
  });
  afterAll(() => t.close());

  /** A token for `userId` issued by the admin key, with these scopes. */
  async function tokenFor(userId: string, scopes: string[] = ['chat'], expiresInSeconds?: number): Promise<Api> {
    const res = await t.admin.post(`/v1/users/${userId}/tokens`, {
      scopes,
      ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return t.anon.as(res.body.token);
  }

  async function createBot(): Promise<{ id: string; apiKey: string; api: Api }> {
    const res = await t.admin.post('/v1/users', { kind: 'bot', handle: uniq('bot') });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.user.id, apiKey: res.body.apiKey, api: t.anon.as(res.body.apiKey) };
  }

  async function createHuman(password: string): Promise<{ id: string; handle: string }> {
    const handle = uniq('h');
    const res = await t.admin.post('/v1/users', { kind: 'human', handle, password });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.user.id, handle };
  }

  describe('GET /v1/me', () => {
    it('answers for the admin key: the built-in admin with both scopes', async () => {
      const res = await t.admin.get('/v1/me');
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe('usr_admin');
      expect(res.body.user.admin).toBe(true);
      expect(res.body.credential).toBe('apiKey');
      expect([...res.body.scopes].sort()).toEqual(['admin', 'chat']);
    });

    it('answers for a chat token', async () => {
      const u = await t.user();
      const res = await u.api.get('/v1/me');
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(u.user.id);
      expect(res.body.credential).toBe('token');
      expect(res.body.scopes).toEqual(['chat']);
    });

    it('answers for a bot API key', async () => {
      const bot = await createBot();
      const res = await bot.api.get('/v1/me');
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(bot.id);
      expect(res.body.user.kind).toBe('bot');
      expect(res.body.credential).toBe('apiKey');
      expect(res.body.scopes).toEqual(['chat']);
    });

    it('refuses a missing, garbage, wrongly signed or expired credential with 401 unauthenticated', async () => {
      expectError(await t.anon.get('/v1/me'), 401, 'unauthenticated');
      expectError(await t.anon.as('garbage').get('/v1/me'), 401, 'unauthenticated');
      expectError(await t.anon.as('pk_not_a_real_key').get('/v1/me'), 401, 'unauthenticated');
      expectError(await t.anon.as('a.b.c').get('/v1/me'), 401, 'unauthenticated');
      expectError(await t.anon.get('/v1/me', { authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` }), 401, 'unauthenticated');
      expectError(await t.anon.get('/v1/me', { authorization: 'Bearer' }), 401, 'unauthenticated');

      const u = await t.user();
      const now = Math.floor(Date.now() / 1000);
      const claims = { scp: ['chat'], ver: 0 };
      const expired = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer('parley')
        .setSubject(u.user.id)
        .setIssuedAt(now - 7200)
        .setExpirationTime(now - 3600)
        .sign(t.server.secrets.jwtSecret);
      const expiredRes = await t.anon.as(expired).get('/v1/me');
      expectError(expiredRes, 401, 'unauthenticated');
      expect(expiredRes.body.error.message).toMatch(/expired/i);

      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer('parley')
        .setSubject(u.user.id)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(new TextEncoder().encode('not-the-server-secret-not-the-server-secret'));
      expectError(await t.anon.as(forged).get('/v1/me'), 401, 'unauthenticated');
    });

    it('refuses a token it accepted before, once it expires', async () => {
      const u = await t.user();
      const now = Math.floor(Date.now() / 1000);
      const shortLived = await new SignJWT({ scp: ['chat'], ver: 0 })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer('parley')
        .setSubject(u.user.id)
        .setIssuedAt(now)
        .setExpirationTime(now + 2)
        .sign(t.server.secrets.jwtSecret);
      // Accepted (and its signature remembered) while it is valid…
      expect((await t.anon.as(shortLived).get('/v1/me')).status).toBe(200);
      expect((await t.anon.as(shortLived).get('/v1/me')).status).toBe(200);
      // …and refused as expired the moment its exp passes, as jose would.
      await new Promise((r) => setTimeout(r, Math.max(0, (now + 2) * 1000 - Date.now()) + 50));
      const res = await t.anon.as(shortLived).get('/v1/me');
      expectError(res, 401, 'unauthenticated');
      expect(res.body.error.message).toMatch(/expired/i);
    });
  });

  describe('POST /v1/users', () => {
    it('creates a human as admin (201), handle stored lower-case', async () => {
      const handle = uniq('Mixed');
      const res = await t.admin.post('/v1/users', { kind: 'human', handle, displayName: 'Ann Example', description: 'd' });
      expect(res.status).toBe(201);
      expect(res.body.user).toMatchObject({ kind: 'human', handle: handle.toLowerCase(), displayName: 'Ann Example', admin: false, disabled: false });
      expect(res.body.apiKey).toBeUndefined();
      const got = await t.admin.get(`/v1/users/${res.body.user.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(res.body.user);
    });

    it('refuses without a credential (401) and with a chat-only token (403), even an admin user\'s', async () => {
      const body = { kind: 'human', handle: uniq('x') };
      expectError(await t.anon.post('/v1/users', body), 401, 'unauthenticated');
      const u = await t.user();
      expectError(await u.api.post('/v1/users', body), 403, 'forbidden');
      const adminUser = await t.user({ admin: true });
      const chatOnly = await tokenFor(adminUser.user.id, ['chat']);
      expectError(await chatOnly.post('/v1/users', body), 403, 'forbidden');
      // The same admin user with an admin-scoped token may.
      expect((await adminUser.api.post('/v1/users', body)).status).toBe(201);
    });

    it('refuses a duplicate handle with 409 conflict, case-insensitively', async () => {
      const handle = uniq('dup');
      expect((await t.admin.post('/v1/users', { kind: 'human', handle })).status).toBe(201);
      expectError(await t.admin.post('/v1/users', { kind: 'human', handle }), 409, 'conflict', 'handle');
      expectError(await t.admin.post('/v1/users', { kind: 'bot', handle: handle.toUpperCase() }), 409, 'conflict', 'handle');
    });

    it('refuses a bad handle with 400 and target "handle"', async () => {
      for (const handle of ['', '-starts-with-dash', 'has space', 'émoji', 'a'.repeat(65), 'semi;colon']) {
        expectError(await t.admin.post('/v1/users', { kind: 'human', handle }), 400, 'bad_request', 'handle');
      }
      expectError(await t.admin.post('/v1/users', { kind: 'human' }), 400, 'bad_request', 'handle');
    });

    it('refuses other malformed bodies with 400', async () => {
      expectError(await t.admin.post('/v1/users', { kind: 'system', handle: uniq('s') }), 400, 'bad_request');
      expectError(await t.admin.post('/v1/users', { kind: 'human', handle: uniq('s'), extra: 1 }), 400, 'bad_request', 'extra');
      expectError(await t.admin.post('/v1/users', { kind: 'human', handle: uniq('s'), password: 'short' }), 400, 'bad_request', 'password');
      expectError(await t.admin.post('/v1/users', '{not json'), 400, 'bad_request');
    });

    it('refuses a password on a bot with 400', async () => {
      expectError(
        await t.admin.post('/v1/users', { kind: 'bot', handle: uniq('b'), password: 'long-enough-password' }),
        400,
        'bad_request',
        'password',
      );
    });

    it('gives a bot its API key once; the key works as Bearer and is never shown again', async () => {
      const bot = await createBot();
      expect(bot.apiKey).toMatch(/^pk_/);
      expect((await bot.api.get('/v1/me')).body.user.id).toBe(bot.id);
      const user = await t.admin.get(`/v1/users/${bot.id}`);
      expect(JSON.stringify(user.body)).not.toContain(bot.apiKey);
      const keys = await t.admin.get(`/v1/users/${bot.id}/api-keys`);
      expect(keys.status).toBe(200);
      expect(keys.body.items).toHaveLength(1);
      expect(bot.apiKey.startsWith(keys.body.items[0].prefix)).toBe(true);
      expect(JSON.stringify(keys.body)).not.toContain(bot.apiKey);
    });
  });

  describe('GET /v1/users/:id', () => {
    it('returns a user to any signed-in user, and `me` is the caller', async () => {
      const a = await t.user();
      const b = await t.user();
      const res = await a.api.get(`/v1/users/${b.user.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(b.user);
      expect((await a.api.get('/v1/users/me')).body.id).toBe(a.user.id);
    });

    it('answers 401 without a credential, 403 for an admin-only token, 404 for an unknown id', async () => {
      const b = await t.user();
      expectError(await t.anon.get(`/v1/users/${b.user.id}`), 401, 'unauthenticated');
      const adminUser = await t.user({ admin: true });
      const adminOnly = await tokenFor(adminUser.user.id, ['admin']);
      expectError(await adminOnly.get(`/v1/users/${b.user.id}`), 403, 'forbidden');
      expectError(await b.api.get('/v1/users/usr_nobody'), 404, 'not_found');
    });
  });

  describe('PATCH /v1/users/:id', () => {
    it('updates fields as admin; 400 on a bad body; 401/403/404 as usual', async () => {
      const u = await t.user();
      const res = await t.admin.patch(`/v1/users/${u.user.id}`, { displayName: 'Renamed', description: 'about' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: u.user.id, displayName: 'Renamed', description: 'about' });
      expectError(await t.admin.patch(`/v1/users/${u.user.id}`, { handle: 'nope' }), 400, 'bad_request', 'handle');
      expectError(await t.admin.patch(`/v1/users/${u.user.id}`, { displayName: '' }), 400, 'bad_request', 'displayName');
      expectError(await t.admin.patch(`/v1/users/${u.user.id}`, { displayName: 'nul\u0000' }), 400, 'bad_request', 'displayName');
      expectError(await t.admin.get('/v1/users/usr%00x'), 400, 'bad_request', 'userId');
      expectError(await t.anon.patch(`/v1/users/${u.user.id}`, { displayName: 'x' }), 401, 'unauthenticated');
      // Users edit their own profile (display name, description); everything else, and other users, are the admin's.
      const other = await t.user();
      expectError(await u.api.patch(`/v1/users/${other.user.id}`, { displayName: 'x' }), 403, 'forbidden', 'userId');
      expectError(await u.api.patch(`/v1/users/${u.user.id}`, { disabled: true }), 403, 'forbidden', 'disabled');
      expectError(await u.api.patch('/v1/users/me', { admin: true }), 403, 'forbidden', 'admin');
      expectError(await u.api.patch('/v1/users/me', { password: 'a-new-password' }), 403, 'forbidden', 'password');
      expect((await u.api.patch('/v1/users/me', { displayName: 'Self-named' })).body).toMatchObject({ id: u.user.id, displayName: 'Self-named' });
      expectError(await t.admin.patch('/v1/users/usr_nobody', { displayName: 'x' }), 404, 'not_found');
    });

    it('disabling stops the user\'s tokens and API keys (401); re-enabling brings back keys and new tokens', async () => {
      const u = await t.user();
      const key = await u.api.post('/v1/users/me/api-keys', { name: 'laptop' });
      expect(key.status).toBe(201);
      const keyApi = t.anon.as(key.body.key);
      const bot = await createBot();
      expect((await keyApi.get('/v1/me')).status).toBe(200);

      expect((await t.admin.patch(`/v1/users/${u.user.id}`, { disabled: true })).body.disabled).toBe(true);
      expect((await t.admin.patch(`/v1/users/${bot.id}`, { disabled: true })).body.disabled).toBe(true);
      expectError(await u.api.get('/v1/me'), 401, 'unauthenticated');
      expectError(await keyApi.get('/v1/me'), 401, 'unauthenticated');
      expectError(await bot.api.get('/v1/me'), 401, 'unauthenticated');
      // No new token for a disabled user either.
      expectError(await t.admin.post(`/v1/users/${u.user.id}/tokens`, {}), 403, 'forbidden');

      expect((await t.admin.patch(`/v1/users/${u.user.id}`, { disabled: false })).body.disabled).toBe(false);
      expect((await t.admin.patch(`/v1/users/${bot.id}`, { disabled: false })).body.disabled).toBe(false);
      expect((await keyApi.get('/v1/me')).status).toBe(200);
      expect((await bot.api.get('/v1/me')).status).toBe(200);
      // Tokens issued before the disable stay revoked; a new one works.
      expectError(await u.api.get('/v1/me'), 401, 'unauthenticated');
      expect((await (await tokenFor(u.user.id)).get('/v1/me')).status).toBe(200);
    });

    it('a new password revokes old tokens; login works with the new password only', async () => {
      const h = await createHuman('first-password');
      const login = await t.anon.post('/v1/auth/login', { handle: h.handle, password: 'first-password' });
      expect(login.status).toBe(200);
      const old = t.anon.as(login.body.token);
      expect((await old.get('/v1/me')).status).toBe(200);

      expect((await t.admin.patch(`/v1/users/${h.id}`, { password: 'second-password' })).status).toBe(200);
      expectError(await old.get('/v1/me'), 401, 'unauthenticated');
      expectError(await t.anon.post('/v1/auth/login', { handle: h.handle, password: 'first-password' }), 401, 'unauthenticated');
      const again = await t.anon.post('/v1/auth/login', { handle: h.handle, password: 'second-password' });
      expect(again.status).toBe(200);
      expect((await t.anon.as(again.body.token).get('/v1/me')).body.user.id).toBe(h.id);
    });

    it('refuses a password for a bot (400) and an admin disabling itself (409)', async () => {
      const bot = await createBot();
      expectError(await t.admin.patch(`/v1/users/${bot.id}`, { password: 'long-enough-password' }), 400, 'bad_request', 'password');
      const adminUser = await t.user({ admin: true });
      expectError(await adminUser.api.patch('/v1/users/me', { disabled: true }), 409, 'conflict');
    });
  });

  describe('DELETE /v1/users/:id', () => {
    it('removes the user from its conversations (member.removed) while its messages stay', async () => {
      const owner = await t.user();
      const doomed = await t.user();
      const room = await owner.api.post('/v1/conversations', { kind: 'room', title: 'stays', members: [doomed.user.id] });
      expect(room.status).toBe(201);
      const cid = room.body.conversation.id;
      const sent = await doomed.api.post(`/v1/conversations/${cid}/messages`, { content: 'my words remain' });
      expect(sent.status).toBe(201);

      const del = await t.admin.delete(`/v1/users/${doomed.user.id}`);
      expect(del.status).toBe(204);
      expectError(await t.admin.get(`/v1/users/${doomed.user.id}`), 404, 'not_found');
      expectError(await doomed.api.get('/v1/me'), 401, 'unauthenticated');

      const members = await owner.api.get(`/v1/conversations/${cid}/members`);
      expect(members.body.items.map((m: any) => m.userId)).toEqual([owner.user.id]);
      expect(members.body.total).toBe(1);
      const events = await owner.api.get(`/v1/conversations/${cid}/events`);
      const removed = events.body.items.filter((e: any) => e.type === 'member.removed');
      expect(removed).toHaveLength(1);
      expect(removed[0].data.member.userId).toBe(doomed.user.id);
      expect(removed[0].data.left).toBe(false);
      const kept = await owner.api.get(`/v1/conversations/${cid}/messages/${sent.body.id}`);
      expect(kept.status).toBe(200);
      expect(kept.body).toMatchObject({ content: 'my words remain', senderId: doomed.user.id, deletedAt: null });
    });

    it('refuses the built-in admin and system users (403), oneself (409), unknown ids (404), non-admins (401/403)', async () => {
      expectError(await t.admin.delete('/v1/users/usr_admin'), 403, 'forbidden');
      expectError(await t.admin.delete('/v1/users/usr_system'), 403, 'forbidden');
      expect((await t.admin.get('/v1/me')).status).toBe(200);
      const adminUser = await t.user({ admin: true });
      expectError(await adminUser.api.delete(`/v1/users/${adminUser.user.id}`), 409, 'conflict');
      expectError(await t.admin.delete('/v1/users/usr_nobody'), 404, 'not_found');
      const victim = await t.user();
      expectError(await t.anon.delete(`/v1/users/${victim.user.id}`), 401, 'unauthenticated');
      expectError(await victim.api.delete(`/v1/users/${victim.user.id}`), 403, 'forbidden');
      expect((await t.admin.get(`/v1/users/${victim.user.id}`)).status).toBe(200);
    });
  });

  describe('POST /v1/auth/login', () => {
    it('signs a human in; the token works and carries the entitled scopes', async () => {
      const h = await createHuman('correct-horse');
      const res = await t.anon.post('/v1/auth/login', { handle: h.handle.toUpperCase(), password: 'correct-horse' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', userId: h.id, scopes: ['chat'] });
      const me = await t.anon.as(res.body.token).get('/v1/me');
      expect(me.body).toMatchObject({ user: { id: h.id }, credential: 'token', scopes: ['chat'] });
    });

    it('answers a wrong password and an unknown handle with the same 401', async () => {
      const h = await createHuman('correct-horse');
      const wrong = await t.anon.post('/v1/auth/login', { handle: h.handle, password: 'battery-staple' });
      const unknown = await t.anon.post('/v1/auth/login', { handle: uniq('ghost'), password: 'battery-staple' });
      expectError(wrong, 401, 'unauthenticated');
      expectError(unknown, 401, 'unauthenticated');
      expect(wrong.body).toEqual(unknown.body);
    });

    it('does not let a bot or a disabled user sign in with a password', async () => {
      const botHandle = uniq('pwbot');
      expect((await t.admin.post('/v1/users', { kind: 'bot', handle: botHandle })).status).toBe(201);
      const bot = await t.anon.post('/v1/auth/login', { handle: botHandle, password: 'anything-at-all' });
      expectError(bot, 401, 'unauthenticated');

      const h = await createHuman('correct-horse');
      await t.admin.patch(`/v1/users/${h.id}`, { disabled: true });
      const disabled = await t.anon.post('/v1/auth/login', { handle: h.handle, password: 'correct-horse' });
      expectError(disabled, 401, 'unauthenticated');
      expect(disabled.body).toEqual(bot.body);
    });

    it('refuses the admin scope for a non-admin (403) and malformed bodies (400)', async () => {
      const h = await createHuman('correct-horse');
      expectError(
        await t.anon.post('/v1/auth/login', { handle: h.handle, password: 'correct-horse', scopes: ['admin'] }),
        403,
        'forbidden',
        'scopes',
      );
      expectError(await t.anon.post('/v1/auth/login', { handle: h.handle }), 400, 'bad_request', 'password');
      expectError(await t.anon.post('/v1/auth/login', { handle: h.handle, password: 'correct-horse', scopes: [] }), 400, 'bad_request', 'scopes');
      expectError(
        await t.anon.post('/v1/auth/login', { handle: h.handle, password: 'correct-horse', expiresInSeconds: 10 }),
        400,
        'bad_request',
        'expiresInSeconds',
      );
    });
  });

  describe('POST /v1/auth/token', () => {
    it('exchanges an API key for a token', async () => {
      const bot = await createBot();
      const res = await bot.api.post('/v1/auth/token', {});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', userId: bot.id, scopes: ['chat'] });
      const me = await t.anon.as(res.body.token).get('/v1/me');
      expect(me.body).toMatchObject({ user: { id: bot.id }, credential: 'token' });
      // No body at all is the same as an empty one.
      const noBody = await bot.api.post('/v1/auth/token');
      expect(noBody.status, JSON.stringify(noBody.body)).toBe(200);
      const short = await bot.api.post('/v1/auth/token', { expiresInSeconds: 300 });
      const claims = decodeJwt(short.body.token);
      expect(claims.exp! - claims.iat!).toBe(300);
    });

    it('refuses to exchange a token (400), no credential (401), or the admin scope for a non-admin (403)', async () => {
      const u = await t.user();
      expectError(await u.api.post('/v1/auth/token', {}), 400, 'bad_request', 'authorization');
      expectError(await t.anon.post('/v1/auth/token', {}), 401, 'unauthenticated');
      const bot = await createBot();
      expectError(await bot.api.post('/v1/auth/token', { scopes: ['admin'] }), 403, 'forbidden', 'scopes');
      expectError(await bot.api.post('/v1/auth/token', { scopes: ['root'] }), 400, 'bad_request');
    });
  });

  describe('token scopes', () => {
    it('an admin-only token cannot call chat routes; a chat token cannot call admin routes', async () => {
      const adminUser = await t.user({ admin: true });
      const adminOnly = await tokenFor(adminUser.user.id, ['admin']);
      expectError(await adminOnly.get('/v1/conversations'), 403, 'forbidden');
      expectError(await adminOnly.post('/v1/conversations', { kind: 'room', title: 'x' }), 403, 'forbidden');
      expect((await adminOnly.post('/v1/users', { kind: 'human', handle: uniq('by-admin-scope') })).status).toBe(201);
      expect((await adminOnly.get('/v1/me')).body.scopes).toEqual(['admin']);

      const chat = await tokenFor(adminUser.user.id, ['chat']);
      expect((await chat.get('/v1/conversations')).status).toBe(200);
      expectError(await chat.post(`/v1/users/${adminUser.user.id}/tokens`, {}), 403, 'forbidden');
      const someone = await t.user();
      expectError(await chat.patch(`/v1/users/${someone.user.id}`, { displayName: 'x' }), 403, 'forbidden');
      expectError(await chat.patch('/v1/users/me', { disabled: true }), 403, 'forbidden');
    });

    it('refuses to issue the admin scope to a non-admin (403)', async () => {
      const u = await t.user();
      expectError(await t.admin.post(`/v1/users/${u.user.id}/tokens`, { scopes: ['admin'] }), 403, 'forbidden', 'scopes');
      expectError(await t.admin.post(`/v1/users/${u.user.id}/tokens`, { scopes: ['chat', 'admin'] }), 403, 'forbidden', 'scopes');
    });

    it('drops the admin scope of a token once its user stops being an admin', async () => {
      const adminUser = await t.user({ admin: true });
      expect((await t.admin.patch(`/v1/users/${adminUser.user.id}`, { admin: false })).body.admin).toBe(false);
      // Losing admin rights ends the sessions outright.
      expectError(await adminUser.api.get('/v1/me'), 401, 'unauthenticated');
    });
  });

  describe('POST /v1/users/:id/tokens', () => {
    it('issues a token with the asked expiry and scopes', async () => {
      const u = await t.user();
      const res = await t.admin.post(`/v1/users/${u.user.id}/tokens`, { expiresInSeconds: 120 });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', userId: u.user.id, scopes: ['chat'] });
      const claims = decodeJwt(res.body.token);
      expect(claims.exp! - claims.iat!).toBe(120);
      expect(new Date(res.body.expiresAt).getTime()).toBe(claims.exp! * 1000);
      expect((await t.anon.as(res.body.token).get('/v1/me')).body.user.id).toBe(u.user.id);
      // `me` as the admin key is the built-in admin.
      const mine = await t.admin.post('/v1/users/me/tokens', { scopes: ['admin'] });
      expect(mine.body.userId).toBe('usr_admin');
    });

    it('answers 400 for a bad body, 401/403 for non-admins, 404 for an unknown user, 403 for the system user', async () => {
      const u = await t.user();
      expectError(await t.admin.post(`/v1/users/${u.user.id}/tokens`, { expiresInSeconds: 59 }), 400, 'bad_request', 'expiresInSeconds');
      expectError(await t.admin.post(`/v1/users/${u.user.id}/tokens`, { scopes: ['chat', 'chat'] }), 400, 'bad_request');
      expectError(await t.anon.post(`/v1/users/${u.user.id}/tokens`, {}), 401, 'unauthenticated');
      expectError(await u.api.post(`/v1/users/${u.user.id}/tokens`, {}), 403, 'forbidden');
      expectError(await t.admin.post('/v1/users/usr_nobody/tokens', {}), 404, 'not_found');
      expectError(await t.admin.post('/v1/users/usr_system/tokens', {}), 403, 'forbidden');
    });
  });

  describe('DELETE /v1/users/:id/tokens', () => {
    it('revokes every earlier token at once while a new one works and API keys stay valid', async () => {
      const u = await t.user();
      const second = await tokenFor(u.user.id);
      const key = await u.api.post('/v1/users/me/api-keys', {});
      expect((await second.get('/v1/me')).status).toBe(200);

      const res = await t.admin.delete(`/v1/users/${u.user.id}/tokens`);
      expect(res.status).toBe(204);
      expectError(await u.api.get('/v1/me'), 401, 'unauthenticated');
      expectError(await second.get('/v1/me'), 401, 'unauthenticated');
      expect((await t.anon.as(key.body.key).get('/v1/me')).status).toBe(200);
      const fresh = await tokenFor(u.user.id);
      expect((await fresh.get('/v1/me')).status).toBe(200);
    });

    it('answers 401/403 for non-admins and 404 for an unknown user', async () => {
      const u = await t.user();
      expectError(await t.anon.delete(`/v1/users/${u.user.id}/tokens`), 401, 'unauthenticated');
      expectError(await u.api.delete(`/v1/users/${u.user.id}/tokens`), 403, 'forbidden');
      expect((await u.api.get('/v1/me')).status).toBe(200);
      expectError(await t.admin.delete('/v1/users/usr_nobody/tokens'), 404, 'not_found');
    });
  });

  describe('API keys', () => {
    it('create, list and delete one\'s own keys; the secret is shown once; a deleted key is refused', async () => {
      const u = await t.user();
      const made = await u.api.post('/v1/users/me/api-keys', { name: 'ci' });
      expect(made.status).toBe(201);
      expect(made.body.apiKey).toMatchObject({ userId: u.user.id, name: 'ci', lastUsedAt: null });
      expect(made.body.key.startsWith(made.body.apiKey.prefix)).toBe(true);
      const keyApi = t.anon.as(made.body.key);
      const me = await keyApi.get('/v1/me');
      expect(me.body).toMatchObject({ user: { id: u.user.id }, credential: 'apiKey', scopes: ['chat'] });

      const other = await u.api.post(`/v1/users/${u.user.id}/api-keys`);
      expect(other.status).toBe(201);
      expect(other.body.apiKey.name).toBe('default');

      const list = await u.api.get('/v1/users/me/api-keys');
      expect(list.status).toBe(200);
      expect(list.body.items.map((k: any) => k.id).sort()).toEqual([made.body.apiKey.id, other.body.apiKey.id].sort());
      const text = JSON.stringify(list.body);
      expect(text).not.toContain(made.body.key);
      expect(text).not.toContain(other.body.key);
      for (const k of list.body.items) expect(Object.keys(k).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'userId']);
      // The key that was used shows it.
      expect(list.body.items.find((k: any) => k.id === made.body.apiKey.id).lastUsedAt).not.toBeNull();

      expect((await u.api.delete(`/v1/users/me/api-keys/${made.body.apiKey.id}`)).status).toBe(204);
      expectError(await keyApi.get('/v1/me'), 401, 'unauthenticated');
      expectError(await u.api.delete(`/v1/users/me/api-keys/${made.body.apiKey.id}`), 404, 'not_found', 'keyId');
      expect((await t.anon.as(other.body.key).get('/v1/me')).status).toBe(200);
      expect((await u.api.get('/v1/users/me/api-keys')).body.items.map((k: any) => k.id)).toEqual([other.body.apiKey.id]);
    });

    it('lets an admin manage anyone\'s keys, and nobody else', async () => {
      const u = await t.user();
      const stranger = await t.user();
      const made = await t.admin.post(`/v1/users/${u.user.id}/api-keys`, { name: 'by-admin' });
      expect(made.status).toBe(201);
      expect(made.body.apiKey.userId).toBe(u.user.id);
      expect((await t.anon.as(made.body.key).get('/v1/me')).body.user.id).toBe(u.user.id);
      expect((await t.admin.get(`/v1/users/${u.user.id}/api-keys`)).body.items.map((k: any) => k.id)).toEqual([made.body.apiKey.id]);

      expectError(await stranger.api.get(`/v1/users/${u.user.id}/api-keys`), 403, 'forbidden');
      expectError(await stranger.api.post(`/v1/users/${u.user.id}/api-keys`, {}), 403, 'forbidden');
      expectError(await stranger.api.delete(`/v1/users/${u.user.id}/api-keys/${made.body.apiKey.id}`), 403, 'forbidden');
      // A key id under the wrong user is not found, and stays valid.
      expectError(await stranger.api.delete(`/v1/users/me/api-keys/${made.body.apiKey.id}`), 404, 'not_found');
      expect((await t.anon.as(made.body.key).get('/v1/me')).status).toBe(200);

      expect((await t.admin.delete(`/v1/users/${u.user.id}/api-keys/${made.body.apiKey.id}`)).status).toBe(204);
      expectError(await t.anon.as(made.body.key).get('/v1/me'), 401, 'unauthenticated');
    });

    it('answers 400 for a bad body, 401 without a credential, 404 for an unknown user, 403 for the system user', async () => {
      const u = await t.user();
      expectError(await u.api.post('/v1/users/me/api-keys', { name: '' }), 400, 'bad_request', 'name');
      expectError(await u.api.post('/v1/users/me/api-keys', { name: 'x'.repeat(101) }), 400, 'bad_request', 'name');
      expectError(await u.api.post('/v1/users/me/api-keys', { scopes: ['chat'] }), 400, 'bad_request', 'scopes');
      expectError(await t.anon.post('/v1/users/me/api-keys', {}), 401, 'unauthenticated');
      expectError(await t.anon.get(`/v1/users/${u.user.id}/api-keys`), 401, 'unauthenticated');
      expectError(await t.admin.get('/v1/users/usr_nobody/api-keys'), 404, 'not_found');
      expectError(await t.admin.post('/v1/users/usr_nobody/api-keys', {}), 404, 'not_found');
      expectError(await t.admin.post('/v1/users/usr_system/api-keys', {}), 403, 'forbidden');
    });

    it('a deleted user\'s API keys stop working', async () => {
      const bot = await createBot();
      expect((await bot.api.get('/v1/me')).status).toBe(200);
      expect((await t.admin.delete(`/v1/users/${bot.id}`)).status).toBe(204);
      expectError(await bot.api.get('/v1/me'), 401, 'unauthenticated');
    });
  });

  describe('GET /v1/users (directory)', () => {
    it('walks every user with limit=1 cursors, without duplicates, matching one big page', async () => {
      const mine = [await t.user(), await t.user(), (await createBot()).id];
      const all = await t.admin.get('/v1/users?limit=200');
      expect(all.status).toBe(200);
      expect(all.body.nextCursor).toBeNull();
      const walked: any[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: ApiResponse<any> = await t.admin.get(`/v1/users?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(1);
        walked.push(...res.body.items);
        cursor = res.body.nextCursor;
        pages += 1;
        expect(pages).toBeLessThanOrEqual(all.body.items.length + 1);
      } while (cursor !== null);
      const ids = walked.map((u) => u.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(all.body.items.map((u: any) => u.id));
      for (const m of mine) expect(ids).toContain(typeof m === 'string' ? m : m.user.id);
      expect(ids).toContain('usr_admin');
      expect(ids).not.toContain('usr_system');
    });

    it('resumes from a saved cursor and agrees with skip paging', async () => {
      await t.user();
      await t.user();
      await t.user();
      const first = await t.admin.get('/v1/users?limit=2');
      expect(first.body.nextCursor).not.toBeNull();
      const a = await t.admin.get(`/v1/users?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
      const b = await t.admin.get(`/v1/users?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
      expect(a.body).toEqual(b.body);
      const skipped = await t.admin.get('/v1/users?limit=2&skip=2');
      expect(skipped.body.items).toEqual(a.body.items);
    });

    it('filters by kind and by handle (case-insensitive), any signed-in user may browse', async () => {
      const u = await t.user();
      const bot = await createBot();
      const bots = await u.api.get('/v1/users?kind=bot&limit=200');
      expect(bots.status).toBe(200);
      expect(bots.body.items.length).toBeGreaterThan(0);
      expect(bots.body.items.every((x: any) => x.kind === 'bot')).toBe(true);
      expect(bots.body.items.map((x: any) => x.id)).toContain(bot.id);
      const humans = await u.api.get('/v1/users?kind=human&limit=200');
      expect(humans.body.items.every((x: any) => x.kind === 'human')).toBe(true);
      expect(humans.body.items.map((x: any) => x.id)).toContain(u.user.id);

      const byHandle = await u.api.get(`/v1/users?handle=${encodeURIComponent(u.user.handle.toUpperCase())}`);
      expect(byHandle.body.items).toEqual([u.user]);
      expect((await u.api.get('/v1/users?handle=nobody-has-this')).body.items).toEqual([]);

      await t.admin.patch(`/v1/users/${bot.id}`, { disabled: true });
      const disabled = await u.api.get('/v1/users?disabled=true&limit=200');
      expect(disabled.body.items.every((x: any) => x.disabled === true)).toBe(true);
      expect(disabled.body.items.map((x: any) => x.id)).toContain(bot.id);
    });

    it('answers 400 for bad queries, 413 over the page size, 401 without a credential', async () => {
      const u = await t.user();
      const limits = (await t.anon.get('/v1/limits')).body;
      expectError(await u.api.get(`/v1/users?limit=${limits.maxPageSize + 1}`), 413, 'limit_exceeded', 'limit');
      expectError(await u.api.get('/v1/users?limit=0'), 400, 'bad_request', 'limit');
      expectError(await u.api.get('/v1/users?limit=abc'), 400, 'bad_request', 'limit');
      expectError(await u.api.get('/v1/users?kind=system'), 400, 'bad_request', 'kind');
      expectError(await u.api.get('/v1/users?cursor=not-a-cursor'), 400, 'bad_request', 'cursor');
      expectError(await t.anon.get('/v1/users'), 401, 'unauthenticated');
    });
  });
});
