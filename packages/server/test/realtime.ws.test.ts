import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';
import { WsClient } from './helpers/ws-client.js';

const STORES = await storeImpls();

// What people said: message contents without the system messages.
const contents = (events: any[]) =>
  events.filter((e) => e.type === 'message.created' && e.data.message.type !== 'system').map((e) => e.data.message.content);

describe.each(STORES)('$name: realtime stream', (impl) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  beforeAll(async () => {
    t = await startTestServer(impl, { PARLEY_MESSAGE_RATE_PER_SECOND: '1000', PARLEY_MESSAGE_BURST: '1000' });
    [alice, bob, carol] = await Promise.all([t.user(), t.user(), t.user()]);
  });
  afterAll(() => t.close());

  const room = async (members: TestUser[], extra: Record<string, unknown> = {}) =>
    (await alice.api.post('/v1/conversations', { kind: 'room', title: 'rt', members: members.map((m) => m.user.id), ...extra })).body.conversation;

  describe('connecting', () => {
    it('authenticates by header or subprotocol, and refuses anything else with the standard body', async () => {
      const viaHeader = await WsClient.connect(t.url, bob.token);
      expect(viaHeader.frames[0]).toMatchObject({ type: 'hello', userId: bob.user.id, awaitingResume: false });
      expect(viaHeader.ws.protocol).toBe('parley.v1');
      const viaProtocol = await WsClient.connect(t.url, bob.token, { viaSubprotocol: true });
      expect(viaProtocol.ws.protocol).toBe('parley.v1');
      viaHeader.close();
      viaProtocol.close();
      await expect(WsClient.connect(t.url, undefined)).rejects.toMatchObject({ status: 401 });
      const refused: any = await WsClient.connect(t.url, 'garbage').catch((e: unknown) => e);
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body).error.code).toBe('unauthenticated');
      await expect(WsClient.connect(t.url, bob.token, { path: '/v1/elsewhere' })).rejects.toMatchObject({ status: 404 });
    });

    it('limits connections per user', async () => {
      const s = await startTestServer(impl, { PARLEY_MAX_CONNECTIONS_PER_USER: '2' });
      try {
        const u = await s.user();
        const a = await WsClient.connect(s.url, u.token);
        const b = await WsClient.connect(s.url, u.token);
        const third: any = await WsClient.connect(s.url, u.token).catch((e: unknown) => e);
        expect(third.status).toBe(429);
        expect(JSON.parse(third.body).error.code).toBe('rate_limited');
        a.close();
        await a.closed;
        await vitestWaitFor(() => s.server.realtime.connectionCount === 1);
        const again = await WsClient.connect(s.url, u.token);
        again.close();
        b.close();
      } finally {
        await s.close();
      }
    });
  });

  describe('live events', () => {
    it('pushes every event of my conversations in seq order, each once', async () => {
      const c = await room([bob]);
      const ws = await WsClient.connect(t.url, bob.token);
      const sends = Array.from({ length: 30 }, (_, i) => alice.api.post(`/v1/conversations/${c.id}/messages`, { content: `m${i}` }));
      await Promise.all(sends);
      await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: 'last' });
      await ws.next((f) => f.type === 'event' && f.event.data.message?.content === 'last');
      const seqs = ws.events(c.id).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      const log = (await bob.api.get(`/v1/conversations/${c.id}/events?after=${seqs[0]! - 1}`)).body.items.map((e: any) => e.seq);
      expect(seqs).toEqual(log);
      expect(contents(ws.events(c.id))).toHaveLength(31);
      ws.close();
    });

    it('shows a new conversation without reconnecting, and stops after removal', async () => {
      const ws = await WsClient.connect(t.url, carol.token);
      const c = await room([carol], { message: { content: 'welcome' } });
      await ws.next((f) => f.type === 'event' && f.event.conversationId === c.id && f.event.data.message?.content === 'welcome');
      expect(ws.events(c.id).some((e) => e.type === 'member.added' && e.data.member.userId === carol.user.id)).toBe(true);
      await alice.api.delete(`/v1/conversations/${c.id}/members/${carol.user.id}`);
      await ws.next((f) => f.type === 'event' && f.event.type === 'member.removed' && f.event.conversationId === c.id);
      await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: 'after removal' });
      const other = await room([carol]);
      await alice.api.post(`/v1/conversations/${other.id}/messages`, { content: 'marker' });
      await ws.next((f) => f.type === 'event' && f.event.data.message?.content === 'marker');
      expect(contents(ws.events(c.id))).not.toContain('after removal');
      ws.close();
    });

    it('delivers messages meant for one member to that member (and the sender) only', async () => {
      const c = await room([bob, carol]);
      const [wb, wc] = await Promise.all([WsClient.connect(t.url, bob.token), WsClient.connect(t.url, carol.token)]);
      await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: 'for bob', visibleTo: bob.user.id });
      const sig = await alice.api.post(`/v1/conversations/${c.id}/signals`, { to: bob.user.id, data: { status: 'thinking', step: 2 } });
      expect(sig.status).toBe(201);
      await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: 'for all' });
      await Promise.all([wb, wc].map((w) => w.next((f) => f.type === 'event' && f.event.data.message?.content === 'for all')));
      expect(contents(wb.events(c.id))).toEqual(['for bob', 'for all']);
      expect(wb.events(c.id).find((e) => e.type === 'signal').data).toEqual({ to: bob.user.id, data: { status: 'thinking', step: 2 } });
      expect(contents(wc.events(c.id))).toEqual(['for all']);
      expect(wc.events(c.id).some((e) => e.type === 'signal')).toBe(false);
      // Someone else deleting a message meant for one member: its author still hears of it, live and in the log.
      const secret = (await carol.api.post(`/v1/conversations/${c.id}/messages`, { content: 'psst', visibleTo: bob.user.id })).body;
      expect((await alice.api.delete(`/v1/conversations/${c.id}/messages/${secret.id}`)).status).toBe(404);
      expect((await t.admin.delete(`/v1/conversations/${c.id}/messages/${secret.id}`)).status).toBe(204);
      await wc.next((f) => f.type === 'event' && f.event.type === 'message.deleted' && f.event.data.message.id === secret.id);
      const log = (await carol.api.get(`/v1/conversations/${c.id}/events`)).body.items;
      expect(log.some((e: any) => e.type === 'message.deleted' && e.data.message.id === secret.id)).toBe(true);
      wb.close();
      wc.close();
    });
  });

  describe('resume', () => {
    it('replays what was missed while offline, in order, with nothing repeated, including new conversations', async () => {
      const c = await room([bob]);
      const first = await WsClient.connect(t.url, bob.token);
      await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: 'seen' });
      const seen = await first.next((f) => f.type === 'event' && f.event.data.message?.content === 'seen');
      first.close();
      await first.closed;
      for (let i = 0; i < 5; i++) await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: `missed ${i}` });
      const added = await room([bob], { message: { content: 'in a new room' } });
      const second = await WsClient.connect(t.url, bob.token, { resume: true });
      expect(second.frames[0]).toMatchObject({ type: 'hello', awaitingResume: true });
      await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: 'while resuming' });
      second.send({ type: 'resume', positions: { [c.id]: seen.event.seq, cnv_gone: 3 } });
      const synced = await second.next((f) => f.type === 'synced');
      await second.next((f) => f.type === 'event' && f.event.data.message?.content === 'while resuming');
      expect(contents(second.events(c.id))).toEqual(['missed 0', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'while resuming']);
      const seqs = second.events(c.id).map((e) => e.seq);
      expect(seqs[0]).toBe(seen.event.seq + 1);
      expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
      expect(contents(second.events(added.id))).toEqual(['in a new room']);
      expect(second.events(added.id).some((e) => e.type === 'member.added' && e.data.member.userId === bob.user.id)).toBe(true);
      expect(second.frames.find((f) => f.type === 'gone')).toEqual({ type: 'gone', conversationId: 'cnv_gone', reason: 'not_a_member' });
      expect(synced.positions[c.id]).toBeGreaterThan(seen.event.seq);
      const again = await second.call({ type: 'resume', positions: {} });
      expect(again.error.code).toBe('conflict');
      second.close();
    });

    it('loses nothing and repeats nothing when cut off while messages are being sent', async () => {
      const c = await room([bob]);
      let ws = await WsClient.connect(t.url, bob.token);
      const received: any[] = [];
      const total = 120;
      const sender = (async () => {
        for (let i = 0; i < total; i++) await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: `n${i}` });
      })();
      await ws.next((f) => f.type === 'event' && f.event.data.message?.content === 'n20');
      ws.ws.terminate();
      await ws.closed;
      received.push(...ws.events(c.id));
      const last = received.at(-1).seq;
      ws = await WsClient.connect(t.url, bob.token, { resume: true });
      ws.send({ type: 'resume', positions: { [c.id]: last } });
      await sender;
      await ws.next((f) => f.type === 'event' && f.event.data.message?.content === `n${total - 1}`);
      received.push(...ws.events(c.id));
      const got = contents(received);
      expect(got).toEqual(Array.from({ length: total }, (_, i) => `n${i}`));
      const seqs = received.map((e) => e.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      ws.close();
    });

    it('keeps history visibility on resume', async () => {
      const c = await room([bob], { historyVisibleToNewMembers: false, message: { content: 'before carol' } });
      await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: 'for bob only', visibleTo: bob.user.id });
      await alice.api.post(`/v1/conversations/${c.id}/members`, { members: [carol.user.id] });
      await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: 'after carol' });
      const ws = await WsClient.connect(t.url, carol.token, { resume: true });
      ws.send({ type: 'resume', positions: { [c.id]: 0 } });
      await ws.next((f) => f.type === 'synced');
      expect(contents(ws.events(c.id))).toEqual(['after carol']);
      ws.close();
    });
  });

  describe('typing, receipts, unread counts', () => {
    it('fans typing out to the others with the display name, throttled per member', async () => {
      const c = await room([bob, carol]);
      const [wa, wb] = await Promise.all([WsClient.connect(t.url, alice.token), WsClient.connect(t.url, bob.token)]);
      const first = await alice.api.post(`/v1/conversations/${c.id}/typing`);
      expect([first.status, first.body.sent]).toEqual([202, true]);
      const typing = await wb.next((f) => f.type === 'typing' && f.conversationId === c.id);
      expect(typing).toMatchObject({ userId: alice.user.id, displayName: alice.user.displayName });
      const throttled = await alice.api.post(`/v1/conversations/${c.id}/typing`);
      expect(throttled.body.sent).toBe(false);
      expect(throttled.body.retryAfterMs).toBeGreaterThan(0);
      const viaSocket = await wb.call({ type: 'typing', conversationId: c.id });
      expect(viaSocket.result.sent).toBe(true);
      await wa.next((f) => f.type === 'typing' && f.userId === bob.user.id);
      expect(wa.frames.some((f) => f.type === 'typing' && f.userId === alice.user.id)).toBe(false);
      expect((await t.admin.post(`/v1/conversations/${c.id}/typing`)).status).toBe(403);
      expect((await t.anon.post(`/v1/conversations/${c.id}/typing`)).status).toBe(401);
      wa.close();
      wb.close();
    });

    it('marks read, pushes receipts, lists them, and counts unread messages', async () => {
      const c = await room([bob]);
      const ws = await WsClient.connect(t.url, alice.token);
      const msgs = [];
      for (let i = 0; i < 3; i++) msgs.push((await alice.api.post(`/v1/conversations/${c.id}/messages`, { content: `u${i}` })).body);
      await bob.api.post(`/v1/conversations/${c.id}/messages`, { content: 'mine' });
      const before = (await bob.api.get('/v1/conversations')).body.items.find((x: any) => x.id === c.id);
      expect(before.unreadCount).toBe(3);
      expect((await bob.api.get(`/v1/conversations/${c.id}`)).body.unreadCount).toBe(3);
      const read = await bob.api.post(`/v1/conversations/${c.id}/read`, { messageId: msgs[1].id });
      expect(read.body).toMatchObject({ userId: bob.user.id, messageId: msgs[1].id, messageSeq: msgs[1].seq });
      const pushed = await ws.next((f) => f.type === 'event' && f.event.type === 'receipt.read');
      expect(pushed.event.data.receipt).toMatchObject({ userId: bob.user.id, messageId: msgs[1].id });
      expect((await bob.api.get(`/v1/conversations/${c.id}`)).body).toMatchObject({ unreadCount: 1, lastReadSeq: msgs[1].seq });
      const back = await bob.api.post(`/v1/conversations/${c.id}/read`, { messageId: msgs[0].id });
      expect(back.body.messageId).toBe(msgs[1].id);
      const viaSocket = await WsClient.connect(t.url, bob.token);
      const ack = await viaSocket.call({ type: 'read', conversationId: c.id });
      expect(ack.result.messageSeq).toBeGreaterThan(msgs[2].seq);
      expect((await bob.api.get(`/v1/conversations/${c.id}`)).body.unreadCount).toBe(0);
      const receipts = await alice.api.get(`/v1/conversations/${c.id}/receipts`);
      expect(receipts.body.items.map((r: any) => r.userId)).toEqual([bob.user.id]);
      expect((await carol.api.get(`/v1/conversations/${c.id}/receipts`)).status).toBe(404);
      expect((await bob.api.post(`/v1/conversations/${c.id}/read`, { messageId: 'msg_nope' })).status).toBe(404);
      ws.close();
      viaSocket.close();
    });
  });

  describe('sending over the socket', () => {
    it('sends, acks with the message, and reports errors with the standard body', async () => {
      const c = await room([bob]);
      const ws = await WsClient.connect(t.url, bob.token);
      const ack = await ws.call({ type: 'send', conversationId: c.id, message: { content: 'over the socket' }, idempotencyKey: 'k1' });
      expect(ack.result).toMatchObject({ content: 'over the socket', senderId: bob.user.id });
      const dup = await ws.call({ type: 'send', conversationId: c.id, message: { content: 'over the socket' }, idempotencyKey: 'k1' });
      expect(dup.result.id).toBe(ack.result.id);
      const denied = await ws.call({ type: 'send', conversationId: 'cnv_nope', message: { content: 'x' } });
      expect(denied.error).toMatchObject({ code: 'not_found' });
      ws.send({ type: 'ping', ref: 'p1' });
      expect(await ws.next((f) => f.type === 'pong')).toEqual({ type: 'pong', ref: 'p1' });
      ws.close();
    });
  });
});

describe.each(STORES)('$name: realtime limits and bad input', (impl) => {
  it('rate-limits sends: 429 with Retry-After over REST, an error frame over the socket', async () => {
    const t = await startTestServer(impl, { PARLEY_MESSAGE_RATE_PER_SECOND: '1', PARLEY_MESSAGE_BURST: '3' });
    try {
      const u = await t.user();
      const c = (await u.api.post('/v1/conversations', { kind: 'room', title: 'rl' })).body.conversation;
      for (let i = 0; i < 3; i++) expect((await u.api.post(`/v1/conversations/${c.id}/messages`, { content: `${i}` })).status).toBe(201);
      const limited = await u.api.post(`/v1/conversations/${c.id}/messages`, { content: 'too many' });
      expect([limited.status, limited.body.error.code]).toEqual([429, 'rate_limited']);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const ws = await WsClient.connect(t.url, u.token);
      const frame = await ws.call({ type: 'send', conversationId: c.id, message: { content: 'again' } });
      expect(frame.error.code).toBe('rate_limited');
      ws.close();
    } finally {
      await t.close();
    }
  });

  it('answers malformed frames with error frames, closes after too many, and refuses oversized frames', async () => {
    const t = await startTestServer(impl, { PARLEY_MAX_BODY_BYTES: '2048' });
    try {
      const u = await t.user();
      const ws = await WsClient.connect(t.url, u.token);
      ws.send('{not json');
      expect((await ws.next((f) => f.type === 'error')).error.code).toBe('bad_request');
      const unknown = await ws.call({ type: 'dance' });
      expect(unknown.error.message).toContain('Unknown frame type');
      const missing = await ws.call({ type: 'send', conversationId: 'cnv_x' });
      expect(missing.error.code).toBe('bad_request');
      ws.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      for (let i = 0; i < 10; i++) ws.send('[]');
      expect((await ws.closed).code).toBe(4400);
      const big = await WsClient.connect(t.url, u.token);
      big.send(JSON.stringify({ type: 'ping', ref: 'x'.repeat(4000) }));
      expect((await big.closed).code).toBe(1009);
      expect(t.server.realtime.connectionCount).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('cuts slow consumers off with their own close code, keeping server memory bounded', async () => {
    const t = await startTestServer(impl, { PARLEY_MAX_SOCKET_BUFFER_BYTES: '65536', PARLEY_MESSAGE_RATE_PER_SECOND: '100000', PARLEY_MESSAGE_BURST: '100000' });
    try {
      const [sender, ...readers] = await Promise.all(Array.from({ length: 6 }, () => t.user()));
      const c = (await sender!.api.post('/v1/conversations', { kind: 'room', title: 'slow', members: readers.map((r) => r.user.id) })).body.conversation;
      const clients = await Promise.all(readers.map((r) => WsClient.connect(t.url, r.token)));
      // Stop reading: the kernel buffers fill, then the server's.
      for (const client of clients) (client.ws as any)._socket.pause();
      // Loopback kernel buffers absorb megabytes before the server's own buffer grows: send plenty.
      const payload = 'x'.repeat(25_000);
      const closed = Promise.all(clients.map((cl) => new Promise<number>((resolve) => (cl.ws as any)._socket.once('close', () => resolve(1)))));
      for (let i = 0; i < 2000 && t.server.realtime.liveConnectionCount > 0; i++) {
        await sender!.api.post(`/v1/conversations/${c.id}/messages`, { content: payload });
      }
      expect(t.server.realtime.liveConnectionCount).toBe(0);
      for (const client of clients) (client.ws as any)._socket.resume();
      const codes = await Promise.all(clients.map((cl) => cl.closed));
      await closed;
      expect(codes.map((x) => x.code)).toEqual(clients.map(() => 4009));
      await vitestWaitFor(() => t.server.realtime.connectionCount === 0);
    } finally {
      await t.close();
    }
  });

  it('closes connections when their tokens are revoked or the user is disabled', async () => {
    const t = await startTestServer(impl);
    try {
      const u = await t.user();
      const ws = await WsClient.connect(t.url, u.token);
      await t.admin.delete(`/v1/users/${u.user.id}/tokens`);
      expect((await ws.closed).code).toBe(4001);
      const key = (await t.admin.post(`/v1/users/${u.user.id}/api-keys`, {})).body.key;
      const viaKey = await WsClient.connect(t.url, key);
      await t.admin.patch(`/v1/users/${u.user.id}`, { disabled: true });
      expect((await viaKey.closed).code).toBe(4001);
    } finally {
      await t.close();
    }
  });

  it('drops peers that stop answering heartbeats', async () => {
    const t = await startTestServer(impl, { PARLEY_HEARTBEAT_SECONDS: '1' });
    try {
      const u = await t.user();
      const ws = await WsClient.connect(t.url, u.token);
      (ws.ws as any)._socket.pause();
      await vitestWaitFor(() => t.server.realtime.connectionCount === 0, 10_000);
      (ws.ws as any)._socket.resume();
      await ws.closed;
    } finally {
      await t.close();
    }
  });
});

async function vitestWaitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
