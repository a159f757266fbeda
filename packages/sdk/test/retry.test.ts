import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isParleyApiError, type ParleyClient } from '@parley/sdk';
import { FaultProxy } from './helpers/fault-proxy.js';
import { collect, startTestServer, until, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const impls = await storeImpls();
const isPost = (path: string) => (r: { method: string; path: string }) => r.method === 'POST' && r.path === path;

for (const impl of impls) {
  describe(`${impl.name}: retries against a server made to fail`, () => {
    let t: TestServer;
    let proxy: FaultProxy;
    let alice: TestUser;
    let client: ParleyClient;
    let conversationId: string;
    beforeAll(async () => {
      t = await startTestServer(impl);
      proxy = await FaultProxy.start(t.url);
      alice = await t.user();
      conversationId = (await alice.client.createRoom({ title: 'Retries' })).conversation.id;
    });
    beforeEach(() => {
      client = t.client({ baseUrl: proxy.url, token: alice.token, retry: { maxAttempts: 4, initialDelayMs: 10, maxDelayMs: 50, jitter: 0.5 } });
      proxy.clearFaults();
      proxy.requests.length = 0;
    });
    afterAll(async () => {
      await proxy.close();
      await t.close();
    });

    const messagesPath = () => `/v1/conversations/${conversationId}/messages`;
    const textsNamed = async (content: string) =>
      (await collect(alice.client.conversation(conversationId).listMessages())).filter((m) => m.content === content);

    it('retries 503 and succeeds', async () => {
      proxy.failNext(2, { status: 503, body: 'upstream down' });
      expect((await client.getMe()).user.id).toBe(alice.user.id);
      expect(proxy.requests.filter((r) => r.path === '/v1/me')).toHaveLength(3);
    });

    it('honours Retry-After on 429', async () => {
      proxy.failNext(1, {
        status: 429,
        headers: { 'retry-after': '1', 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }),
      });
      const started = Date.now();
      await client.getMe();
      // The pause is the server's second, not the 10 ms initial delay.
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(proxy.requests).toHaveLength(2);
    });

    it('gives up after maxAttempts with the last error', async () => {
      proxy.failNext(4, { status: 502 });
      const err = await client.getMe().catch((e: unknown) => e);
      expect(isParleyApiError(err) && [err.code, err.status]).toEqual(['internal', 502]);
      expect(proxy.requests).toHaveLength(4);
      // Each attempt has its own request id; the error names the last one.
      const ids = proxy.requests.map((r) => r.headers['x-request-id']);
      expect(new Set(ids).size).toBe(4);
      expect(isParleyApiError(err) && err.requestId).toBe(ids.at(-1));
    });

    it('retries dropped connections (network errors)', async () => {
      proxy.dropNext(2);
      expect((await client.getMe()).user.id).toBe(alice.user.id);
      expect(proxy.requests).toHaveLength(3);
    });

    it('a send whose answer was lost is retried with the same idempotency key: one message, not two', async () => {
      proxy.dropAfterForward(1, isPost(messagesPath()));
      proxy.failNext(1, { status: 503, match: isPost(messagesPath()) });
      const sent = await client.conversation(conversationId).sendMessage('exactly once');
      const posts = proxy.requests.filter((r) => r.method === 'POST' && r.path === messagesPath());
      expect(posts).toHaveLength(3);
      expect((await textsNamed('exactly once')).map((m) => m.id)).toEqual([sent.id]);
    });

    it('a create whose answer was lost is retried with the same key: one conversation', async () => {
      proxy.dropAfterForward(1, isPost('/v1/conversations'));
      const title = `Once ${Date.now()}`;
      const created = await client.createRoom({ title });
      const found = await collect(alice.client.listConversations({ title }));
      expect(found.map((c) => c.id)).toEqual([created.conversation.id]);
    });

    it('does not retry a non-idempotent call without a key after 5xx or a lost answer', async () => {
      const { user } = await t.admin.createUser({ kind: 'bot', handle: `keybot${Date.now().toString(36)}` });
      const keysPath = `/v1/users/${user.id}/api-keys`;
      const admin = t.client({ baseUrl: proxy.url, token: t.adminKey, retry: { maxAttempts: 4, initialDelayMs: 10 } });
      proxy.failNext(1, { status: 503, match: isPost(keysPath) });
      await expect(admin.createApiKey(user.id, { name: 'x' })).rejects.toMatchObject({ code: 'internal', status: 503 });
      proxy.dropAfterForward(1, isPost(keysPath));
      await expect(admin.createApiKey(user.id, { name: 'y' })).rejects.toMatchObject({ code: 'network_error', status: 0 });
      expect(proxy.requests.filter((r) => r.method === 'POST' && r.path === keysPath)).toHaveLength(2);
      // The lost one did happen on the server; a blind retry would have made a third key.
      expect((await collect(t.admin.listApiKeys(user.id))).map((k) => k.name).sort()).toEqual(['default', 'y']);
    });

    it('retries a non-idempotent call after 429 (the server did nothing)', async () => {
      proxy.failNext(1, { status: 429, headers: { 'retry-after': '0' }, match: (r) => r.method === 'PATCH' });
      const conv = client.conversation(conversationId);
      const m = await conv.sendMessage('to edit');
      expect((await conv.updateMessage(m.id, { content: 'edited once' })).version).toBe(2);
    });

    it('a retried DELETE whose first answer was lost succeeds', async () => {
      const conv = client.conversation(conversationId);
      const m = await conv.sendMessage('to delete');
      proxy.dropAfterForward(1, (r) => r.method === 'DELETE');
      await conv.deleteMessage(m.id);
      expect((await alice.client.conversation(conversationId).getMessage(m.id)).deletedAt).not.toBeNull();
    });

    it('does not retry client errors', async () => {
      await expect(client.getConversation('cnv_nope')).rejects.toMatchObject({ code: 'not_found' });
      expect(proxy.requests).toHaveLength(1);
    });

    it('an abort stops the retries', async () => {
      proxy.failNext(10, { status: 503 });
      const controller = new AbortController();
      const slow = t.client({ baseUrl: proxy.url, token: alice.token, retry: { maxAttempts: 10, initialDelayMs: 200, jitter: 0 } });
      const call = slow.getMe({ signal: controller.signal });
      await until(() => proxy.requests.length === 1, 'the first attempt');
      controller.abort(new Error('user gave up'));
      await expect(call).rejects.toThrow('user gave up');
      // The retry pauses 200 ms: the abort ended it before a second attempt.
      expect(proxy.requests).toHaveLength(1);
    });

    it('validates the policy', () => {
      expect(() => t.client({ token: 'x', retry: { maxAttempts: 0 } })).toThrow(RangeError);
      expect(() => t.client({ token: 'x', retry: { jitter: 2 } })).toThrow(RangeError);
    });
  });
}
