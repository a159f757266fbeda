import { createHmac } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot, type BotContext } from '@parley/bot';
import { isParleyApiError, type Message } from '@parley/sdk';
import { startTestServer, until, type TestServer, type TestUser } from '../../sdk/test/helpers/test-server.js';
import { storeImpls } from '../../sdk/test/helpers/stores.js';

// A real bot against a real server, in both delivery modes: WebSocket (start) and signed webhooks.

const STORES = await storeImpls();

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function sign(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

describe.each(STORES)('$name: @parley/bot', (impl) => {
  let t: TestServer;
  let alice: TestUser;
  beforeAll(async () => {
    t = await startTestServer(impl, { PARLEY_WEBHOOK_RETRY_BASE_MS: '20', PARLEY_WEBHOOK_RETRY_MAX_MS: '200' });
    alice = await t.user({ displayName: 'Alice' });
  });
  afterAll(() => t.close());

  /** A bot account and its API key. */
  const makeBot = async (handle: string) => {
    const created = await t.admin.createUser({ kind: 'bot', handle: `${handle}${Math.random().toString(36).slice(2, 7)}`, displayName: handle });
    return { id: created.user.id, handle: created.user.handle, apiKey: created.apiKey! };
  };
  /** Alice's view of a conversation's messages, oldest first. */
  const messages = async (conversationId: string): Promise<Message[]> => {
    const out: Message[] = [];
    for await (const m of alice.client.conversation(conversationId).listMessages({ order: 'asc' })) out.push(m);
    return out;
  };
  const waitForMessage = async (conversationId: string, match: (m: Message) => boolean, what: string) => {
    let found: Message | undefined;
    await until(async () => (found = (await messages(conversationId)).find(match)) !== undefined, what);
    return found!;
  };

  describe('WebSocket mode', () => {
    let account: Awaited<ReturnType<typeof makeBot>>;
    let bot: Bot;
    const errors: unknown[] = [];
    const seenMembers: string[] = [];
    beforeAll(async () => {
      account = await makeBot('helper');
      bot = new Bot({ baseUrl: t.url, apiKey: account.apiKey });
      bot.use(async (ctx, next) => {
        ctx.state['startedAt'] = Date.now();
        if (ctx.message?.content === 'ignore me') return;
        await next();
      });
      bot.command('/echo', (ctx) => ctx.reply(ctx.command!.args.join(' ') || '(nothing)'), { description: 'Say it back', usage: '<text>' });
      bot.command('/sum', (ctx) => ctx.reply(`= ${ctx.command!.args.map(Number).reduce((a, b) => a + b, 0)}`), { description: 'Add numbers' });
      bot.command('/boom', () => {
        throw new Error('handler exploded');
      });
      bot.command('/state', (ctx) => ctx.reply(typeof ctx.state['startedAt']));
      bot.on('mention', (ctx) => ctx.reply(`You called, ${ctx.message!.senderDisplayName}?`));
      bot.on('message', (ctx) => {
        if (ctx.message!.content === 'ping') return ctx.reply('pong');
      });
      bot.on('member.added', (ctx) => {
        if (ctx.event.type === 'member.added') seenMembers.push(ctx.event.data.member.userId);
      });
      bot.on('error', (err) => errors.push(err));
      await bot.start();
    });
    afterAll(() => bot.stop());

    it('publishes its commands, with a generated /help, to its profile', async () => {
      const profile = await alice.client.getUser(account.id);
      expect(profile.commands.map((c) => c.command)).toEqual(['/help', '/echo', '/sum', '/boom', '/state']);
      expect(profile.commands[1]).toEqual({ command: '/echo', description: 'Say it back', usage: '<text>' });
    });

    it('answers commands with parsed arguments, /help, unknown commands and mentions; ignores its own messages', async () => {
      const room = (await alice.client.createRoom({ title: 'Bot room', members: [account.id] })).conversation;
      const conv = alice.client.conversation(room.id);
      await until(() => seenMembers.includes(account.id), 'the bot to see itself added');
      await conv.sendMessage('/echo hello "big world"');
      await waitForMessage(room.id, (m) => m.senderId === account.id && m.content === 'hello big world', 'the echo');
      await conv.sendMessage('/sum 1 2 39');
      await waitForMessage(room.id, (m) => m.content === '= 42', 'the sum');
      await conv.sendMessage('/help');
      const help = await waitForMessage(room.id, (m) => m.senderId === account.id && m.content.startsWith('Commands:'), 'the help');
      expect(help.content).toContain('/echo <text> — Say it back');
      await conv.sendMessage('/nope');
      await waitForMessage(room.id, (m) => m.content === "I don't know /nope. Try /help.", 'the unknown-command answer');
      await conv.sendMessage(`hey @${account.handle}, are you there?`);
      await waitForMessage(room.id, (m) => m.content === 'You called, Alice?', 'the mention answer');
      await conv.sendMessage('ping');
      await waitForMessage(room.id, (m) => m.content === 'pong', 'pong');
      // A command addressed to another bot is not this bot's.
      await conv.sendMessage('/echo@someoneelse no');
      await conv.sendMessage('/state');
      await waitForMessage(room.id, (m) => m.content === 'number', 'middleware state');
      const all = await messages(room.id);
      expect(all.filter((m) => m.content === 'no')).toEqual([]);
      // Every answer once: nothing handled twice, and the bot's own messages (e.g. "pong") were not answered.
      expect(all.filter((m) => m.senderId === account.id && m.content === 'pong')).toHaveLength(1);
    });

    it('keeps running when a handler throws, and lets middleware stop an event', async () => {
      const room = (await alice.client.createRoom({ title: 'Errors', members: [account.id] })).conversation;
      const conv = alice.client.conversation(room.id);
      await conv.sendMessage('/boom');
      await until(() => errors.some((e) => (e as Error).message === 'handler exploded'), 'the error handler');
      await conv.sendMessage('ignore me');
      await conv.sendMessage('/echo still alive');
      await waitForMessage(room.id, (m) => m.content === 'still alive', 'an answer after the failure');
      expect((await messages(room.id)).some((m) => m.senderId === account.id && m.content.includes('ignore'))).toBe(false);
    });

    it('reconnects and resumes: messages sent while disconnected are each handled once', async () => {
      const room = (await alice.client.createRoom({ title: 'Resume', members: [account.id] })).conversation;
      const conv = alice.client.conversation(room.id);
      await conv.sendMessage('/echo first');
      await waitForMessage(room.id, (m) => m.content === 'first', 'the first echo');
      bot.client.dropConnection();
      for (let i = 0; i < 5; i++) await conv.sendMessage(`/echo n${i}`);
      // Events of a conversation are handled in order: once "last" is answered, any repeat would be too.
      await conv.sendMessage('/echo last');
      await waitForMessage(room.id, (m) => m.content === 'last', 'the last echo');
      const echoes = (await messages(room.id)).filter((m) => m.senderId === account.id).map((m) => m.content);
      expect(echoes).toEqual(['first', 'n0', 'n1', 'n2', 'n3', 'n4', 'last']);
    });

    it('offers the chats API: subscriptions, byId, byTitle (a list), create with users, groups and a first message', async () => {
      const [bob, carol] = await Promise.all([t.user(), t.user()]);
      const circle = await alice.client.createGroup({ name: 'Circle', visibility: 'public', members: [carol.user.id] });
      const list = await alice.client.createGroup({ name: 'My list', members: [carol.user.id] });
      const title = `Standup ${Math.random().toString(36).slice(2, 7)}`;
      const created = await bot.chats.create({ title, users: [bob.user.id], groups: [circle.group.id], message: 'Good morning' });
      expect(created.conversation).toMatchObject({ title, kind: 'group' });
      expect(created.message?.content).toBe('Good morning');
      const members = [];
      for await (const m of bot.client.conversation(created.conversation.id).listMembers()) members.push(m.userId);
      expect(members.sort()).toEqual([account.id, bob.user.id, carol.user.id].sort());
      const again = await bot.chats.create({ title, users: [bob.user.id, carol.user.id] });
      expect(again.conversation.id).not.toBe(created.conversation.id);
      expect((await bot.chats.byTitle(title)).map((c) => c.id).sort()).toEqual([created.conversation.id, again.conversation.id].sort());
      expect((await bot.chats.byId(created.conversation.id)).title).toBe(title);
      const mine = [];
      for await (const c of bot.chats.subscriptions()) mine.push(c.id);
      expect(mine).toEqual(expect.arrayContaining([created.conversation.id, again.conversation.id]));
      const refused = await bot.chats.create({ title: 'No', users: [bob.user.id], groups: [list.group.id] }).catch((e: unknown) => e);
      expect(isParleyApiError(refused) && [refused.status, refused.code]).toEqual([403, 'forbidden']);
    });
  });

  describe('webhook mode', () => {
    let account: Awaited<ReturnType<typeof makeBot>>;
    let bot: Bot;
    let secret: string;
    let receiver: Server;
    const handled: string[] = [];
    beforeAll(async () => {
      account = await makeBot('hooked');
      bot = new Bot({ baseUrl: t.url, apiKey: account.apiKey });
      bot.command('/echo', async (ctx) => {
        handled.push(ctx.event.id);
        await ctx.reply(ctx.command!.text);
      });
      await bot.init();
      receiver = createHttpServer();
      const url = await listen(receiver);
      const set = await bot.client.setWebhook('me', { url: `${url}/parley` });
      secret = set.secret!;
      receiver.on('request', bot.webhookHandler({ secret }));
    });
    afterAll(async () => {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
      await bot.stop();
    });

    it('handles signed deliveries from the server and answers over REST', async () => {
      const room = (await alice.client.createRoom({ title: 'Hooked', members: [account.id] })).conversation;
      await alice.client.conversation(room.id).sendMessage('/echo over the hook');
      await waitForMessage(room.id, (m) => m.senderId === account.id && m.content === 'over the hook', 'the webhook echo');
    });

    it('refuses tampered bodies, stale and missing signatures; skips a redelivered event', async () => {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/parley`;
      const room = (await alice.client.createRoom({ title: 'Manual', members: [account.id] })).conversation;
      const sent = await alice.client.conversation(room.id).sendMessage('/echo by hand');
      const event = { id: `evt_manual_${Date.now()}`, type: 'message.created', conversationId: room.id, seq: 999, actorId: alice.user.id, createdAt: new Date().toISOString(), data: { message: sent } };
      const body = JSON.stringify({ deliveryId: 'dlv_x', botId: account.id, event });
      const post = (b: string, signature?: string) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'parley-signature': signature } : {}) }, body: b });
      expect((await post(body)).status).toBe(401);
      expect(await (await post(body.replace('by hand', 'by HAND'), sign(secret, body))).json()).toEqual({ error: 'bad_signature' });
      expect(await (await post(body, sign(secret, body, Math.floor(Date.now() / 1000) - 3600))).json()).toEqual({ error: 'stale_timestamp' });
      expect((await post('not json', sign(secret, 'not json'))).status).toBe(400);
      const before = handled.filter((id) => id === event.id).length;
      const first = await post(body, sign(secret, body));
      expect([first.status, await first.json()]).toEqual([200, { ok: true }]);
      const second = await post(body, sign(secret, body));
      expect(await second.json()).toEqual({ ok: true, duplicate: true });
      expect(handled.filter((id) => id === event.id).length - before).toBe(1);
      expect((await fetch(url)).status).toBe(405);
    });

    it('serves the same handler from Express and Fastify', async () => {
      const payload = (id: string) => JSON.stringify({ deliveryId: 'dlv_y', botId: account.id, event: { id, type: 'member.added', conversationId: 'cnv_none', seq: 1, actorId: null, createdAt: new Date().toISOString(), data: {} } });
      const seen: string[] = [];
      bot.on('member.added', (ctx: BotContext) => {
        seen.push(ctx.event.id);
      });

      const app = express();
      app.post('/raw', bot.webhookHandler({ secret }));
      app.post('/parsed', express.json(), bot.webhookHandler({ secret }));
      const expressServer = createHttpServer(app);
      const base = await listen(expressServer);
      try {
        const b = payload('evt_express');
        const ok = await fetch(`${base}/raw`, { method: 'POST', headers: { 'content-type': 'application/json', 'parley-signature': sign(secret, b) }, body: b });
        expect(ok.status).toBe(200);
        const b2 = payload('evt_express_parsed');
        const parsed = await fetch(`${base}/parsed`, { method: 'POST', headers: { 'content-type': 'application/json', 'parley-signature': sign(secret, b2) }, body: b2 });
        expect(parsed.status).toBe(400);
        expect(((await parsed.json()) as { error: string }).error).toMatch(/body_already_parsed/);
      } finally {
        expressServer.closeAllConnections();
        await new Promise((r) => expressServer.close(r));
      }

      const fastify = Fastify();
      await fastify.register(bot.fastifyWebhook({ secret, path: '/parley' }));
      fastify.post('/other', async (request) => request.body);
      const fastifyUrl = await fastify.listen({ port: 0, host: '127.0.0.1' });
      try {
        const b = payload('evt_fastify');
        const ok = await fetch(`${fastifyUrl}/parley`, { method: 'POST', headers: { 'content-type': 'application/json', 'parley-signature': sign(secret, b) }, body: b });
        expect([ok.status, await ok.json()]).toEqual([200, { ok: true }]);
        const bad = await fetch(`${fastifyUrl}/parley`, { method: 'POST', headers: { 'content-type': 'application/json', 'parley-signature': sign(secret, `${b} `) }, body: b });
        expect(bad.status).toBe(401);
        // Outside the plugin, the app's own JSON parsing is untouched.
        const other = await fetch(`${fastifyUrl}/other`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
        expect(await other.json()).toEqual({ a: 1 });
      } finally {
        await fastify.close();
      }
      // Real deliveries of earlier tests may arrive meanwhile; these are the hand-made ones.
      expect(seen.filter((id) => id.startsWith('evt_express') || id.startsWith('evt_fastify'))).toEqual(['evt_express', 'evt_fastify']);
    });
  });

  it('stops gracefully: waits for the handlers still running', async () => {
    const account = await makeBot('slow');
    const bot = new Bot({ baseUrl: t.url, apiKey: account.apiKey });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    let finished = false;
    bot.command('/slow', async (ctx) => {
      started = true;
      await gate;
      await ctx.reply('done');
      finished = true;
    });
    await bot.start();
    const room = (await alice.client.createRoom({ title: 'Slow', members: [account.id] })).conversation;
    await alice.client.conversation(room.id).sendMessage('/slow');
    await until(() => started, 'the handler to start');
    const stopping = bot.stop();
    setTimeout(release, 100);
    await stopping;
    expect(finished).toBe(true);
    await expect(bot.start()).rejects.toThrow(/stopped/);
  });
});
