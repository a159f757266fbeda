import { createHash, createHmac, randomBytes } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';
import { testCertificate, type TestCertificate } from './helpers/test-tls.js';

const STORES = await storeImpls();

const parleyId = (rawId: string): string => `usr_${rawId.split('_').at(-1)!}`;
const RAW_ID = /^8:acs:[0-9a-f-]+_[0-9a-z]+$/;

interface Signed {
  method: string;
  path: string;
  body?: string;
  /** Changes one part of what is signed or sent, to see the signature refused. */
  tamper?: 'signature' | 'body' | 'date' | 'key' | 'headers';
}

describe.each(STORES)('$name: ACS identity SDK against Parley', (impl) => {
  let t: TestServer;
  let cert: TestCertificate;
  let identity: CommunicationIdentityClient;
  const tlsOptions = () => ({ tlsOptions: { ca: cert.ca } });
  const chatAs = (token: string) => new ChatClient(t.url, new AzureCommunicationTokenCredential(token), tlsOptions());
  /** Any chat call: listing threads needs only a valid chat token. */
  const chatWorks = async (token: string): Promise<void> => {
    for await (const page of chatAs(token).listChatThreads().byPage()) void page;
  };

  /** Signs a request by the ACS rules (independently of the server's code) and sends it. */
  function signed(req: Signed): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
    const url = new URL(t.url + req.path);
    const body = req.body ?? '';
    const date = req.tamper === 'date' ? new Date(Date.now() - 60 * 60_000).toUTCString() : new Date().toUTCString();
    const hash = createHash('sha256').update(body).digest('base64');
    const key = req.tamper === 'key' ? randomBytes(32) : Buffer.from(t.server.secrets.acsAccessKey, 'base64');
    let signature = createHmac('sha256', key).update(`${req.method}\n${url.pathname}${url.search}\n${date};${url.host};${hash}`).digest('base64');
    if (req.tamper === 'signature') signature = `${signature.slice(0, -4)}AAA=`;
    const headers: Record<string, string> = {
      'x-ms-date': date,
      'x-ms-content-sha256': hash,
      authorization: `HMAC-SHA256 SignedHeaders=${req.tamper === 'headers' ? 'host;x-ms-date' : 'x-ms-date;host;x-ms-content-sha256'}&Signature=${signature}`,
      ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    const sent = req.tamper === 'body' ? body.replace('chat', 'voip') : body;
    return new Promise((resolve, reject) => {
      const r = httpsRequest(url, { method: req.method, headers, ca: cert.ca }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined, headers: res.headers }));
      });
      r.on('error', reject);
      r.end(sent);
    });
  }

  beforeAll(async () => {
    cert = await testCertificate();
    t = await startTestServer(impl, cert.env);
    identity = new CommunicationIdentityClient(`endpoint=${t.url}/;accesskey=${t.server.secrets.acsAccessKey}`, tlsOptions());
  });
  afterAll(() => t.close());

  it('creates users that are Parley humans, with 8:acs: raw ids', async () => {
    const user = await identity.createUser();
    expect(user.communicationUserId).toMatch(RAW_ID);
    const native = await t.admin.get(`/v1/users/${parleyId(user.communicationUserId)}`);
    expect(native.status).toBe(200);
    expect(native.body).toMatchObject({ kind: 'human', admin: false, disabled: false });
    const other = await identity.createUser();
    expect(other.communicationUserId).not.toBe(user.communicationUserId);
  });

  it('creates a user with a token (24 hours by default) that the chat SDK and the Parley API accept', async () => {
    const before = Date.now();
    const { user, token, expiresOn } = await identity.createUserAndToken(['chat']);
    expect(user.communicationUserId).toMatch(RAW_ID);
    expect(expiresOn.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 1440 * 60_000);
    expect(expiresOn.getTime()).toBeLessThanOrEqual(Date.now() + 1440 * 60_000);
    // A JWT with a numeric exp matching expiresOn: what AzureCommunicationTokenCredential decodes.
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
    expect(claims.exp * 1000).toBe(expiresOn.getTime());
    await chatWorks(token);
    const me = await t.admin.as(token).get('/v1/me');
    expect(me.body).toMatchObject({ user: { id: parleyId(user.communicationUserId) }, scopes: ['chat'] });
  });

  it('issues tokens with the asked lifetime and scopes; refuses lifetimes out of range and scopes Parley has no use for', async () => {
    const user = await identity.createUser();
    const short = await identity.getToken(user, ['chat'], { tokenExpiresInMinutes: 60 });
    expect(short.expiresOn.getTime() - Date.now()).toBeLessThanOrEqual(60 * 60_000);
    expect(short.expiresOn.getTime() - Date.now()).toBeGreaterThan(58 * 60_000);
    await chatWorks(short.token);
    const withVoip = await identity.getToken(user, ['chat', 'voip']);
    await chatWorks(withVoip.token);
    for (const minutes of [30, 1441]) {
      await expect(identity.getToken(user, ['chat'], { tokenExpiresInMinutes: minutes })).rejects.toMatchObject({ statusCode: 400, code: 'BadRequest' });
    }
    await expect(identity.getToken(user, ['voip'])).rejects.toMatchObject({ statusCode: 400, code: 'BadRequest' });
    await expect(identity.getToken(user, ['chat.join'])).rejects.toMatchObject({ statusCode: 400, code: 'BadRequest' });
    await expect(identity.createUserAndToken(['voip'])).rejects.toMatchObject({ statusCode: 400 });
    await expect(identity.getToken({ communicationUserId: '8:acs:nobody_x' }, ['chat'])).rejects.toMatchObject({ statusCode: 404, code: 'NotFound' });
  });

  it('revokeTokens stops every token issued before at once (401), and later tokens work', async () => {
    const { user, token } = await identity.createUserAndToken(['chat']);
    const second = (await identity.getToken(user, ['chat'])).token;
    await chatWorks(token);
    await identity.revokeTokens(user);
    for (const old of [token, second]) {
      await expect(chatWorks(old)).rejects.toMatchObject({ statusCode: 401, code: 'Unauthorized' });
    }
    await chatWorks((await identity.getToken(user, ['chat'])).token);
    await expect(identity.revokeTokens({ communicationUserId: '8:acs:nobody_x' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('deleteUser removes the Parley user from its threads and stops its tokens', async () => {
    const [alice, bob] = await Promise.all([identity.createUserAndToken(['chat']), identity.createUserAndToken(['chat'])]);
    const created = await chatAs(alice.token).createChatThread({ topic: 'Deleting' }, { participants: [{ id: bob.user }] });
    await identity.deleteUser(bob.user);
    await expect(chatWorks(bob.token)).rejects.toMatchObject({ statusCode: 401 });
    const participants = [];
    for await (const p of chatAs(alice.token).getChatThreadClient(created.chatThread!.id).listParticipants()) participants.push(p);
    expect(participants).toHaveLength(1);
    expect((await t.admin.get(`/v1/users/${parleyId(bob.user.communicationUserId)}`)).status).toBe(404);
    await expect(identity.deleteUser(bob.user)).rejects.toMatchObject({ statusCode: 404 });
    await expect(identity.getToken(bob.user, ['chat'])).rejects.toMatchObject({ statusCode: 404 });
  });

  it('answers getTokenForTeamsUser with 501 NotImplemented', async () => {
    await expect(
      identity.getTokenForTeamsUser({ teamsUserAadToken: 'aad', clientId: crypto.randomUUID(), userObjectId: crypto.randomUUID() }),
    ).rejects.toMatchObject({ statusCode: 501, code: 'NotImplemented' });
  });

  it('accepts a correctly signed request and refuses a bad signature, body, date, key or header list with 401', async () => {
    const ok = await signed({ method: 'POST', path: '/identities?api-version=2023-10-01', body: '{"createTokenWithScopes":["chat"]}' });
    expect(ok.status).toBe(201);
    expect(ok.json.identity.id).toMatch(RAW_ID);
    for (const tamper of ['signature', 'body', 'date', 'key', 'headers'] as const) {
      const res = await signed({ method: 'POST', path: '/identities?api-version=2023-10-01', body: '{"createTokenWithScopes":["chat"]}', tamper });
      expect(res.status, tamper).toBe(401);
      expect(res.json.error, tamper).toMatchObject({ code: 'Unauthorized', message: expect.any(String) });
    }
    const bearer = await new Promise<number>((resolve, reject) => {
      const r = httpsRequest(new URL(`${t.url}/identities`), { method: 'POST', headers: { authorization: `Bearer ${t.adminKey}` }, ca: cert.ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      r.on('error', reject);
      r.end();
    });
    expect(bearer).toBe(401);
    // The SDK with a wrong key is refused too.
    const wrong = new CommunicationIdentityClient(`endpoint=${t.url}/;accesskey=${randomBytes(32).toString('base64')}`, tlsOptions());
    await expect(wrong.createUser()).rejects.toMatchObject({ statusCode: 401, code: 'Unauthorized' });
  });

  it('refuses bad identity input with 4xx and the ACS error body', async () => {
    const user = await identity.createUser();
    const id = encodeURIComponent(user.communicationUserId);
    const cases: Signed[] = [
      { method: 'POST', path: '/identities', body: '{"createTokenWithScopes":"chat"}' },
      { method: 'POST', path: '/identities', body: '{"createTokenWithScopes":[]}' },
      { method: 'POST', path: '/identities', body: '{"createTokenWithScopes":["chat"],"expiresInMinutes":"soon"}' },
      { method: 'POST', path: '/identities', body: '{broken' },
      { method: 'POST', path: `/identities/${id}/:issueAccessToken`, body: '{}' },
      { method: 'POST', path: `/identities/${id}/:issueAccessToken`, body: '{"scopes":["admin"]}' },
      { method: 'POST', path: '/identities/8%3Aacs%3Aelsewhere_x/:issueAccessToken', body: '{"scopes":["chat"]}' },
      { method: 'DELETE', path: '/identities/not-an-id' },
      { method: 'POST', path: '/identities/%E0%A4%A/:revokeAccessTokens' },
    ];
    for (const c of cases) {
      const res = await signed(c);
      expect(res.status, `${c.method} ${c.path} ${c.body ?? ''}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${c.method} ${c.path} ${c.body ?? ''}`).toBeLessThan(500);
      expect(typeof res.json?.error?.code).toBe('string');
      expect(typeof res.json?.error?.message).toBe('string');
    }
  });
});
