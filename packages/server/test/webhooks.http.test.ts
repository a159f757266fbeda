import { createHmac } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, loadConfig } from '@parley/server';
import { Api, startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();
const FAST_RETRIES = { PARLEY_WEBHOOK_RETRY_BASE_MS: '20', PARLEY_WEBHOOK_RETRY_MAX_MS: '100', PARLEY_WEBHOOK_MAX_ATTEMPTS: '4' };

interface Received {
  headers: IncomingMessage['headers'];
  raw: string;
  body: any;
}

/** A webhook receiver on loopback: answers with `answer(n)` (n counts requests from 1) and records every request. */
class Receiver {
  readonly received: Received[] = [];
  answer: (n: number) => number | 'hang' = () => 200;
  readonly #server: Server;
  readonly #hung: ServerResponse[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Receiver> {
    const r: Receiver = new Receiver(
      createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          r.received.push({ headers: req.headers, raw, body: JSON.parse(raw) });
          const answer = r.answer(r.received.length);
          if (answer === 'hang') r.#hung.push(res);
          else res.writeHead(answer).end();
        });
      }),
    );
    await new Promise<void>((resolve) => r.#server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }

  /** Distinct event ids received: a receiver de-duplicates redeliveries by event id. */
  eventIds(): string[] {
    return [...new Set(this.received.map((r) => r.body.event.id as string))];
  }

  async close(): Promise<void> {
    for (const res of this.#hung) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

async function waitFor<T>(probe: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  for (let waited = 0; ; waited += 25) {
    const v = await probe();
    if (ok(v)) return v;
    if (waited > timeoutMs) throw new Error(`condition not met in time; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function verify(secret: string, r: Received): boolean {
  const header = String(r.headers['parley-signature']);
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  return createHmac('sha256', secret).update(`${m[1]}.${r.raw}`).digest('hex') === m[2];
}

describe.each(STORES)('$name: bot webhooks', (impl) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let bot: TestUser;
  let otherBot: TestUser;
  let receiver: Receiver;
  let secret: string;
  beforeAll(async () => {
    t = await startTestServer(impl, FAST_RETRIES);
    [alice, bob, bot, otherBot] = await Promise.all([t.user(), t.user(), t.user({ kind: 'bot' }), t.user({ kind: 'bot' })]);
    receiver = await Receiver.start();
    const put = await bot.api.request('PUT', '/v1/users/me/webhook', { url: receiver.url });
    expect(put.status).toBe(200);
    secret = put.body.secret;
    expect(secret).toMatch(/^whsec_/);
    expect(put.body.webhook).toMatchObject({ userId: bot.user.id, url: receiver.url, events: null, active: true });
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  it('is managed by the bot itself or an admin, for bots only, with validated input', async () => {
    expect((await bot.api.get('/v1/users/me/webhook')).body).toMatchObject({ url: receiver.url });
    expect((await bot.api.get('/v1/users/me/webhook')).body.secret).toBeUndefined();
    const again = await t.admin.request('PUT', `/v1/users/${bot.user.id}/webhook`, { url: receiver.url });
    expect([again.status, again.body.secret]).toEqual([200, null]);
    const cases: [Api, string, unknown, number, string][] = [
      [otherBot.api, `/v1/users/${bot.user.id}/webhook`, { url: receiver.url }, 403, 'forbidden'],
      [alice.api, '/v1/users/me/webhook', { url: receiver.url }, 409, 'conflict'],
      [otherBot.api, '/v1/users/me/webhook', { url: 'ftp://example.test/x' }, 400, 'bad_request'],
      [otherBot.api, '/v1/users/me/webhook', { url: 'not a url' }, 400, 'bad_request'],
      [otherBot.api, '/v1/users/me/webhook', { url: receiver.url, events: ['no.such'] }, 400, 'bad_request'],
      [otherBot.api, '/v1/users/me/webhook', { url: receiver.url, extra: true }, 400, 'bad_request'],
      [t.admin, '/v1/users/usr_ghost/webhook', { url: receiver.url }, 404, 'not_found'],
    ];
    for (const [api, path, body, status, code] of cases) {
      const res = await api.request('PUT', path, body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect((await otherBot.api.get('/v1/users/me/webhook')).status).toBe(404);
    expect((await t.anon.get('/v1/users/me/webhook')).status).toBe(401);
    expect((await alice.api.get('/v1/webhook-deliveries')).status).toBe(403);
    expect((await otherBot.api.get(`/v1/users/${bot.user.id}/webhook/deliveries`)).status).toBe(403);
  });

  it('delivers every event of the bot\'s conversations it may see, signed, in order per conversation', async () => {
    const before = receiver.received.length;
    const room = (await alice.api.post('/v1/conversations', { kind: 'room', title: 'Hooks', members: [bot.user.id, bob.user.id] })).body.conversation;
    for (let i = 0; i < 5; i++) await alice.api.post(`/v1/conversations/${room.id}/messages`, { content: `m${i}` });
    await alice.api.post(`/v1/conversations/${room.id}/messages`, { content: 'for bob only', visibleTo: bob.user.id });
    await alice.api.post(`/v1/conversations/${room.id}/signals`, { to: bot.user.id, data: { status: 'go' } });
    const events = (await alice.api.get(`/v1/conversations/${room.id}/events?limit=200`)).body.items as any[];
    const expected = events.filter((e) => e.type !== 'message.created' || e.data.message.content !== 'for bob only');
    expect(expected.length).toBe(events.length - 1);
    await waitFor(() => receiver.received.filter((r) => r.body.event.conversationId === room.id).length, (n) => n >= expected.length);
    const got = receiver.received.slice(before).filter((r) => r.body.event.conversationId === room.id);
    expect(got.map((r) => r.body.event.seq)).toEqual(expected.map((e) => e.seq));
    expect(got.map((r) => r.body.event.type)).toContain('conversation.created');
    expect(got.map((r) => r.body.event.type)).toContain('signal');
    for (const r of got) {
      expect(verify(secret, r)).toBe(true);
      expect(r.headers['parley-event-id']).toBe(r.body.event.id);
      expect(r.headers['parley-delivery-id']).toBe(r.body.deliveryId);
      expect(r.body.botId).toBe(bot.user.id);
      expect(r.headers['content-type']).toBe('application/json');
    }
    // A tampered body no longer matches its signature.
    const tampered = { ...got[0]!, raw: got[0]!.raw.replace('"seq":', '"seq": ') };
    expect(verify(secret, tampered)).toBe(false);
    const log = await bot.api.get('/v1/users/me/webhook/deliveries?status=delivered&limit=3');
    expect(log.body.items).toHaveLength(3);
    expect(log.body.items[0]).toMatchObject({ status: 'delivered', attempts: 1, lastStatus: 200, userId: bot.user.id });
  });

  it('retries with backoff until the receiver takes it, losing nothing (duplicates removable by event id)', async () => {
    const start = receiver.received.length;
    receiver.answer = (n) => (n <= start + 3 ? 500 : 200);
    try {
      const room = (await alice.api.post('/v1/conversations', { kind: 'group', members: [bot.user.id, bob.user.id] })).body.conversation;
      await alice.api.post(`/v1/conversations/${room.id}/messages`, { content: 'retry me' });
      const events = (await alice.api.get(`/v1/conversations/${room.id}/events`)).body.items as any[];
      const delivered = async () =>
        ((await bot.api.get('/v1/users/me/webhook/deliveries?limit=200')).body.items as any[]).filter((d) => d.conversationId === room.id);
      const log = await waitFor(delivered, (ds) => ds.length === events.length && ds.every((d) => d.status === 'delivered'));
      expect(log.some((d) => d.attempts > 1)).toBe(true);
      const ids = receiver.received.slice(start).filter((r) => r.body.event.conversationId === room.id).map((r) => r.body.event.id);
      expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
      expect(ids.length).toBeGreaterThan(events.length);
    } finally {
      receiver.answer = () => 200;
    }
  });

  it('dead-letters after the last attempt, shows it to admins, and retries it on request', async () => {
    receiver.answer = () => 503;
    let deadId: string;
    const room = (await alice.api.post('/v1/conversations', { kind: 'room', title: 'Dead letters', members: [bot.user.id] })).body.conversation;
    try {
      const deadOnes = async () =>
        ((await t.admin.get('/v1/webhook-deliveries?status=dead&limit=200')).body.items as any[]).filter((d) => d.conversationId === room.id);
      const dead = await waitFor(deadOnes, (ds) => ds.length > 0);
      expect(dead[0]).toMatchObject({ status: 'dead', attempts: 4, lastStatus: 503, lastError: 'HTTP 503', nextAttemptAt: null, userId: bot.user.id });
      deadId = dead[0].id;
    } finally {
      receiver.answer = () => 200;
    }
    const retried = await bot.api.post(`/v1/users/me/webhook/deliveries/${deadId}/retry`);
    expect(retried.body).toMatchObject({ id: deadId, status: 'pending', attempts: 0 });
    await waitFor(
      async () => ((await bot.api.get('/v1/users/me/webhook/deliveries?limit=200')).body.items as any[]).find((d) => d.id === deadId),
      (d) => d?.status === 'delivered',
    );
    const notDead = await bot.api.post(`/v1/users/me/webhook/deliveries/${deadId}/retry`);
    expect([notDead.status, notDead.body.error.code]).toEqual([409, 'conflict']);
    expect((await bot.api.post('/v1/users/me/webhook/deliveries/dlv_ghost/retry')).status).toBe(404);
  });

  it('never holds up a send while the receiver hangs', async () => {
    receiver.answer = () => 'hang';
    try {
      const room = (await alice.api.post('/v1/conversations', { kind: 'room', title: 'Hanging', members: [bot.user.id] })).body.conversation;
      await waitFor(() => receiver.received.length, () => receiver.received.some((r) => r.body.event.conversationId === room.id));
      // Requests to the receiver are open and unanswered, and sends still complete.
      for (let i = 0; i < 5; i++) expect((await alice.api.post(`/v1/conversations/${room.id}/messages`, { content: `h${i}` })).status).toBe(201);
    } finally {
      receiver.answer = () => 200;
    }
  });

  it('delivers only the event types asked for', async () => {
    const filtered = await t.user({ kind: 'bot' });
    const own = await Receiver.start();
    try {
      await filtered.api.request('PUT', '/v1/users/me/webhook', { url: own.url, events: ['message.created'] });
      const room = (await alice.api.post('/v1/conversations', { kind: 'room', title: 'Filtered', members: [filtered.user.id] })).body.conversation;
      await alice.api.post(`/v1/conversations/${room.id}/messages`, { content: 'only messages' });
      await waitFor(() => own.received.length, () => own.received.some((r) => r.body.event.data.message?.content === 'only messages'));
      expect(new Set(own.received.map((r) => r.body.event.type))).toEqual(new Set(['message.created']));
    } finally {
      await own.close();
    }
  });
});

describe.each(STORES)('$name: webhook deliveries across a restart', (impl) => {
  it('keeps queued deliveries and events committed while the receiver was down, and delivers them after a restart', async () => {
    const store = await impl.open();
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-hook-'));
    const config = loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_PORT: '0', PARLEY_LOG_LEVEL: 'silent', ...FAST_RETRIES, PARLEY_WEBHOOK_MAX_ATTEMPTS: '1000' });
    const receiver = await Receiver.start();
    receiver.answer = () => 500;
    try {
      let server = await createServer(config, { store });
      let api = new Api(await server.listen(), server.secrets.adminKey);
      const user = async (kind: 'human' | 'bot') => {
        const created = await api.post('/v1/users', { kind, handle: `${kind}${Math.random().toString(36).slice(2, 10)}` });
        const token = await api.post(`/v1/users/${created.body.user.id}/tokens`, { scopes: ['chat'] });
        return { id: created.body.user.id as string, token: token.body.token as string };
      };
      const human = await user('human');
      const bot = await user('bot');
      await api.as(bot.token).request('PUT', '/v1/users/me/webhook', { url: receiver.url });
      const room = (await api.as(human.token).post('/v1/conversations', { kind: 'room', title: 'Restart', members: [bot.id] })).body.conversation;
      for (let i = 0; i < 3; i++) await api.as(human.token).post(`/v1/conversations/${room.id}/messages`, { content: `before ${i}` });
      await waitFor(() => receiver.received.length, (n) => n > 0);
      // Committed while no dispatcher is running (as if this process had crashed before queueing them).
      await server.services.webhookDispatcher.close();
      for (let i = 0; i < 2; i++) await api.as(human.token).post(`/v1/conversations/${room.id}/messages`, { content: `unqueued ${i}` });
      await server.close();

      receiver.answer = () => 200;
      server = await createServer(config, { store });
      api = new Api(await server.listen(), server.secrets.adminKey);
      const events = (await api.as(human.token).get(`/v1/conversations/${room.id}/events?limit=200`)).body.items as any[];
      await waitFor(() => receiver.eventIds().length, (n) => n >= events.length);
      expect(new Set(receiver.eventIds())).toEqual(new Set(events.map((e) => e.id)));
      await server.close();
    } finally {
      await receiver.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
