import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyCredential, RefreshingTokenCredential, StaticTokenCredential } from '@parley/sdk';
import { startTestServer, until, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const impls = await storeImpls();

for (const impl of impls) {
  describe(`${impl.name}: credentials and token refresh`, () => {
    let t: TestServer;
    let alice: TestUser;
    beforeAll(async () => {
      t = await startTestServer(impl);
      alice = await t.user();
    });
    afterAll(() => t.close());

    /** A refresher that asks the admin for a new token for alice and counts its calls. */
    function refresher(lifetimeMs?: number) {
      const calls: string[] = [];
      const tokenRefresher = async () => {
        // Counted when it starts, so a refresh still in flight is counted too.
        const call = calls.push('') - 1;
        const { token, expiresAt } = await t.admin.createUserToken(alice.user.id, { scopes: ['chat'] });
        calls[call] = token;
        return { token, expiresOnTimestamp: lifetimeMs === undefined ? Date.parse(expiresAt) : Date.now() + lifetimeMs };
      };
      return { calls, tokenRefresher };
    }

    it('gets its first token on demand, then reuses it while it is fresh', async () => {
      const { calls, tokenRefresher } = refresher();
      const client = t.client({ credential: new RefreshingTokenCredential({ tokenRefresher }) });
      await client.getMe();
      await client.getMe();
      expect(calls).toHaveLength(1);
    });

    it('refreshes a token that is about to expire before using it', async () => {
      const { calls, tokenRefresher } = refresher(1000);
      const credential = new RefreshingTokenCredential({ tokenRefresher, refreshBeforeExpiryMs: 400 });
      const client = t.client({ credential });
      await client.getMe();
      expect(calls).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 700));
      expect((await client.getMe()).user.id).toBe(alice.user.id);
      expect(calls).toHaveLength(2);
    });

    it('refreshes proactively in the background, and stops when disposed', async () => {
      const { calls, tokenRefresher } = refresher(600);
      const credential = new RefreshingTokenCredential({ tokenRefresher, refreshBeforeExpiryMs: 300, refreshProactively: true });
      await credential.getToken();
      await until(() => calls.length >= 3, 'two background refreshes');
      credential.dispose();
      const after = calls.length;
      await new Promise((r) => setTimeout(r, 700));
      expect(calls.length).toBe(after);
      await expect(credential.getToken()).rejects.toThrow(/disposed/);
    });

    it('concurrent callers share one refresh', async () => {
      const { calls, tokenRefresher } = refresher();
      const credential = new RefreshingTokenCredential({ tokenRefresher });
      const tokens = await Promise.all(Array.from({ length: 5 }, () => credential.getToken()));
      expect(new Set(tokens.map((x) => x.token)).size).toBe(1);
      expect(calls).toHaveLength(1);
    });

    it('a token the server refuses (revoked) is refreshed once and the call succeeds', async () => {
      const { calls, tokenRefresher } = refresher();
      const client = t.client({ credential: new RefreshingTokenCredential({ tokenRefresher }) });
      await client.getMe();
      await t.admin.deleteUserTokens(alice.user.id);
      expect((await client.getMe()).user.id).toBe(alice.user.id);
      expect(calls).toHaveLength(2);
      alice = { ...alice, token: calls[1]! };
    });

    it('starts from a given token, reading its expiry from the JWT', async () => {
      const { token, expiresAt } = await t.admin.createUserToken(alice.user.id, { scopes: ['chat'] });
      const { calls, tokenRefresher } = refresher();
      const credential = new RefreshingTokenCredential({ tokenRefresher, token });
      expect(await credential.getToken()).toEqual({ token, expiresOnTimestamp: Math.floor(Date.parse(expiresAt) / 1000) * 1000 });
      expect(calls).toHaveLength(0);
    });

    it('StaticTokenCredential: the expiry of a JWT, none for an API key', async () => {
      const { token } = await t.admin.createUserToken(alice.user.id, { expiresInSeconds: 600 });
      expect((await new StaticTokenCredential(token).getToken()).expiresOnTimestamp).toBeGreaterThan(Date.now());
      expect((await new StaticTokenCredential('pk_something').getToken()).expiresOnTimestamp).toBe(Number.POSITIVE_INFINITY);
      expect(() => new StaticTokenCredential('')).toThrow(TypeError);
    });

    it('ApiKeyCredential exchanges the key for short-lived tokens, and again after a revocation', async () => {
      const { user, apiKey } = await t.admin.createUser({ kind: 'bot', handle: `credbot${Date.now().toString(36)}` });
      const credential = new ApiKeyCredential({ baseUrl: t.url, apiKey: apiKey!, expiresInSeconds: 300 });
      const bot = t.client({ credential });
      const first = await credential.getToken();
      expect(first.token.split('.')).toHaveLength(3);
      expect(first.expiresOnTimestamp).toBeLessThanOrEqual(Date.now() + 300_000);
      expect(await bot.getMe()).toMatchObject({ user: { id: user.id }, credential: 'token' });
      await t.admin.deleteUserTokens(user.id);
      expect((await bot.getMe()).user.id).toBe(user.id);
      expect((await credential.getToken()).token).not.toBe(first.token);
      credential.dispose();
    });

    it('a static credential the server refuses fails with unauthenticated', async () => {
      const client = t.client({ token: 'not-a-real-key', retry: { maxAttempts: 1 } });
      await expect(client.getMe()).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
    });
  });
}
