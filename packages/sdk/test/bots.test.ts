import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyClient, WebhookDelivery } from '@parley/sdk';
import { checkPaging, rejection } from './helpers/assertions.js';
import { collect, startTestServer, until, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const impls = await storeImpls();

/** A webhook receiver on loopback that answers every delivery with `status` and counts them. */
async function startReceiver(): Promise<{ url: string; status: number; received: number; close(): Promise<void> }> {
  const receiver = { url: '', status: 200, received: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      receiver.received += 1;
      res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

for (const impl of impls) {
  describe(`${impl.name}: bot profiles and webhooks`, () => {
    let t: TestServer;
    let alice: TestUser;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    beforeAll(async () => {
      t = await startTestServer(impl, { PARLEY_WEBHOOK_RETRY_BASE_MS: '10', PARLEY_WEBHOOK_RETRY_MAX_MS: '20', PARLEY_WEBHOOK_MAX_ATTEMPTS: '2' });
      alice = await t.user();
      receiver = await startReceiver();
    });
    afterAll(async () => {
      await t.close();
      await receiver.close();
    });

    async function makeBot(): Promise<{ id: string; client: ParleyClient }> {
      const { user, apiKey } = await t.admin.createUser({ kind: 'bot', handle: `hook${Math.random().toString(36).slice(2, 10)}` });
      return { id: user.id, client: t.client({ apiKey: apiKey! }) };
    }

    it('updateMe: a user edits its own profile, a bot its commands; anything more is refused', async () => {
      const me = await alice.client.updateMe({ displayName: 'Alice A.', description: 'Designer' });
      expect(me).toMatchObject({ id: alice.user.id, displayName: 'Alice A.', description: 'Designer' });
      const bot = await makeBot();
      const commands = [{ command: '/weather', description: 'The forecast', usage: '<city>' }];
      expect((await bot.client.updateMe({ commands })).commands).toEqual(commands);
      expect((await alice.client.getUser(bot.id)).commands).toEqual(commands);
      // Self-service through updateUser as well, with one's own id.
      expect((await alice.client.updateUser(alice.user.id, { description: 'Lead designer' })).description).toBe('Lead designer');
      const promote = await rejection(alice.client.updateUser('me', { admin: true }));
      expect([promote.status, promote.code]).toEqual([403, 'forbidden']);
      const other = await rejection(alice.client.updateUser(bot.id, { displayName: 'Mine' }));
      expect([other.status, other.code]).toEqual([403, 'forbidden']);
      const bad = await rejection(bot.client.updateMe({ commands: [{ command: 'no-slash', description: 'x' }] }));
      expect([bad.status, bad.code]).toEqual([400, 'bad_request']);
    });

    it('setWebhook, getWebhook, deleteWebhook: the secret is shown once; only bots have webhooks', async () => {
      const bot = await makeBot();
      expect((await rejection(bot.client.getWebhook('me'))).code).toBe('not_found');
      const created = await bot.client.setWebhook('me', { url: receiver.url, events: ['message.created'] });
      expect(created.webhook).toMatchObject({ userId: bot.id, url: receiver.url, events: ['message.created'], active: true });
      expect(created.secret).toMatch(/.{16,}/);
      const replaced = await bot.client.setWebhook('me', { url: receiver.url, events: null, active: false });
      expect([replaced.secret, replaced.webhook.events, replaced.webhook.active]).toEqual([null, null, false]);
      const rotated = await t.admin.setWebhook(bot.id, { url: receiver.url, rotateSecret: true });
      expect(rotated.secret).not.toBe(created.secret);
      expect(await t.admin.getWebhook(bot.id)).toEqual(rotated.webhook);

      const human = await rejection(alice.client.setWebhook('me', { url: receiver.url }));
      expect([human.status, human.code, human.target]).toEqual([409, 'conflict', 'userId']);
      expect((await rejection(alice.client.getWebhook(bot.id))).code).toBe('forbidden');
      const badUrl = await rejection(bot.client.setWebhook('me', { url: 'ftp://example.com' }));
      expect([badUrl.status, badUrl.code]).toEqual([400, 'bad_request']);

      await bot.client.deleteWebhook('me');
      expect((await rejection(bot.client.getWebhook('me'))).code).toBe('not_found');
    });

    it('listWebhookDeliveries (paged, by status), listAllWebhookDeliveries and retryWebhookDelivery of a dead one', async () => {
      const bot = await makeBot();
      receiver.status = 503;
      await bot.client.setWebhook('me', { url: receiver.url, events: ['message.created'] });
      const { conversation } = await alice.client.createRoom({ title: 'Hooks', members: [bot.id] });
      for (let i = 0; i < 4; i += 1) await alice.client.conversation(conversation.id).sendMessage(`m${i}`);
      // Every delivery (the room's system messages are message.created events too) ends dead-lettered.
      let deadOnes: WebhookDelivery[] = [];
      await until(async () => {
        deadOnes = await collect(bot.client.listWebhookDeliveries('me'));
        return deadOnes.length >= 4 && deadOnes.every((d) => d.status === 'dead');
      }, 'every delivery to be dead-lettered');
      expect(deadOnes.map((d) => d.id)).toEqual((await collect(bot.client.listWebhookDeliveries('me', { status: 'dead' }))).map((d) => d.id));
      expect(await collect(bot.client.listWebhookDeliveries('me', { status: 'delivered' }))).toEqual([]);
      expect(deadOnes[0]).toMatchObject({ status: 'dead', attempts: 2, lastStatus: 503, userId: bot.id, conversationId: conversation.id });
      // Newest first.
      expect(deadOnes.map((d) => d.createdAt)).toEqual(deadOnes.map((d) => d.createdAt).sort().reverse());
      const ids = deadOnes.map((d) => d.id);
      await checkPaging(() => bot.client.listWebhookDeliveries('me', { status: 'dead' }), (d) => d.id, ids);

      const everyBot = (await collect(t.admin.listAllWebhookDeliveries({ status: 'dead' }))).map((d) => d.id);
      expect(everyBot).toEqual(expect.arrayContaining(ids));
      expect((await rejection(alice.client.listAllWebhookDeliveries().byPage().next())).code).toBe('forbidden');
      expect((await rejection(alice.client.listWebhookDeliveries(bot.id).byPage().next())).code).toBe('forbidden');

      receiver.status = 200;
      const retried = await bot.client.retryWebhookDelivery('me', ids[0]!);
      expect(retried).toMatchObject({ id: ids[0], status: 'pending', attempts: 0 });
      await until(
        async () => (await collect(bot.client.listWebhookDeliveries('me', { status: 'delivered' }))).some((d) => d.id === ids[0]),
        'the retried delivery to succeed',
      );
      expect((await rejection(bot.client.retryWebhookDelivery('me', ids[0]!))).code).toBe('conflict');
      expect((await rejection(bot.client.retryWebhookDelivery('me', 'dlv_ghost'))).code).toBe('not_found');
    });
  });
}
