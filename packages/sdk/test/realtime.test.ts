import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshingTokenCredential, type ConnectionState, type Message, type ParleyEvent } from '@parley/sdk';
import { FaultProxy } from './helpers/fault-proxy.js';
import { startTestServer, until, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const impls = await storeImpls();
const fastReconnect = { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } };

/** The message.created events of one conversation that `events` holds, as contents. */
function created(events: ParleyEvent[], conversationId: string): string[] {
  return events.flatMap((e) =>
    e.type === 'message.created' && e.conversationId === conversationId && e.data.message.type === 'text' ? [e.data.message.content] : [],
  );
}

for (const impl of impls) {
  describe(`${impl.name}: realtime`, () => {
    let t: TestServer;
    let proxy: FaultProxy;
    let alice: TestUser;
    let bob: TestUser;
    beforeAll(async () => {
      t = await startTestServer(impl);
      proxy = await FaultProxy.start(t.url);
      [alice, bob] = await Promise.all([t.user(), t.user()]);
    });
    afterAll(async () => {
      await proxy.close();
      await t.close();
    });

    it('events(), on() and typing: live events, typed handlers, unsubscribe', async () => {
      const listener = t.client({ token: bob.token, realtime: fastReconnect });
      const { conversation } = await alice.client.createRoom({ title: 'Live', members: [bob.user.id] });
      const states: ConnectionState[] = [];
      listener.on('connection', (c) => states.push(c.state));
      const got: string[] = [];
      const stop = listener.on('message.created', (e) => got.push(e.data.message.content));
      const typing: string[] = [];
      listener.on('typing', (n) => typing.push(n.userId));
      const iterator = listener.events({ conversationId: conversation.id, types: ['message.created', 'message.edited'] });
      await listener.connect();
      expect(listener.connectionState).toBe('connected');
      expect(states).toEqual(['connecting', 'connected']);
      const conv = alice.client.conversation(conversation.id);
      const m = await conv.sendMessage('one');
      await conv.sendMessage('two');
      await conv.updateMessage(m.id, { content: 'one!' });
      await conv.sendTyping();
      const seen: ParleyEvent[] = [];
      for await (const event of iterator) {
        seen.push(event);
        if (seen.length === 3) break;
      }
      expect(seen.map((e) => e.type)).toEqual(['message.created', 'message.created', 'message.edited']);
      await until(() => got.length === 2 && typing.length === 1, 'handlers');
      expect(got).toEqual(['one', 'two']);
      expect(typing).toEqual([alice.user.id]);
      stop();
      const next = listener.events({ conversationId: conversation.id });
      await conv.sendMessage('three');
      expect((await next.next()).value).toMatchObject({ type: 'message.created', data: { message: { content: 'three' } } });
      await next.return!();
      expect(got).toEqual(['one', 'two']);
      // Signals reach the member they are for; read receipts reach the members.
      const signals: unknown[] = [];
      listener.on('signal', (e) => signals.push(e.data.data));
      const receipts: string[] = [];
      listener.on('receipt.read', (e) => receipts.push(e.data.receipt.userId));
      await conv.sendSignal(bob.user.id, { status: 'working' });
      await conv.sendReadReceipt();
      await until(() => signals.length === 1 && receipts.length === 1, 'the signal and the receipt');
      expect([signals, receipts]).toEqual([[{ status: 'working' }], [alice.user.id]]);
    });

    it('reconnects and resumes while messages are being sent: nothing lost, nothing repeated', async () => {
      const listener = t.client({ baseUrl: proxy.url, token: bob.token, realtime: fastReconnect });
      const { conversation } = await alice.client.createRoom({ title: 'Storm', members: [bob.user.id] });
      const events: ParleyEvent[] = [];
      listener.on('message.created', (e) => events.push(e));
      let reconnects = 0;
      listener.on('connection', (c) => {
        if (c.state === 'connected' && c.previous === 'reconnecting') reconnects += 1;
      });
      await listener.connect();
      const conv = alice.client.conversation(conversation.id);
      const sent: string[] = [];
      const sending = (async () => {
        for (let i = 0; i < 60; i += 1) {
          await conv.sendMessage(`m${i}`);
          sent.push(`m${i}`);
        }
      })();
      for (let kill = 0; kill < 3; kill += 1) {
        await until(() => sent.length >= (kill + 1) * 15, 'some messages sent');
        expect(proxy.killWebSockets()).toBeGreaterThanOrEqual(1);
        await until(() => reconnects === kill + 1, 'the reconnect');
      }
      await sending;
      await until(() => created(events, conversation.id).length >= 60, 'all 60 messages');
      await new Promise((r) => setTimeout(r, 100));
      expect(created(events, conversation.id)).toEqual(sent);
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(reconnects).toBeGreaterThanOrEqual(3);
    });

    it('a connection that goes silent (dead network path) is detected by heartbeats, dropped and resumed', async () => {
      await using quick = await startTestServer(impl, { PARLEY_HEARTBEAT_SECONDS: '1' });
      await using quickProxy = await FaultProxy.start(quick.url);
      const [a, b] = await Promise.all([quick.user(), quick.user()]);
      const listener = quick.client({ baseUrl: quickProxy.url, token: b.token, realtime: fastReconnect });
      const { conversation } = await a.client.createRoom({ title: 'Silent', members: [b.user.id] });
      const got: string[] = [];
      listener.on('message.created', (e) => {
        if (e.conversationId === conversation.id && e.data.message.type === 'text') got.push(e.data.message.content);
      });
      const drops: number[] = [];
      listener.on('connection', (c) => {
        if (c.closeCode !== undefined) drops.push(c.closeCode);
      });
      await listener.connect();
      expect(quickProxy.freezeWebSockets()).toBe(1);
      await a.client.conversation(conversation.id).sendMessage('sent into the silence');
      await until(() => got.length === 1, 'the message after the heartbeat timeout');
      expect(got).toEqual(['sent into the silence']);
      expect(drops).toEqual([4010]);
    });

    it('while offline: conversations one was added to show up on reconnect, with their messages', async () => {
      const listener = t.client({ baseUrl: proxy.url, token: bob.token, realtime: fastReconnect });
      const events: ParleyEvent[] = [];
      for (const type of ['member.added', 'message.created', 'conversation.created'] as const) listener.on(type, (e) => events.push(e));
      await listener.connect();
      proxy.refuseUpgrades(3);
      proxy.killWebSockets();
      await until(() => listener.connectionState === 'reconnecting', 'the drop');
      const { conversation } = await alice.client.createRoom({ title: 'While away', members: [bob.user.id], message: { content: 'you were added' } });
      await alice.client.conversation(conversation.id).sendMessage('and this too');
      await until(() => listener.connectionState === 'connected', 'the reconnect');
      await until(() => created(events, conversation.id).length >= 2, 'the replay');
      expect(created(events, conversation.id)).toEqual(['you were added', 'and this too']);
      expect(events.some((e) => e.type === 'member.added' && e.conversationId === conversation.id)).toBe(true);
    });

    it('a session resumes from saved positions exactly where the previous one stopped', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Positions', members: [bob.user.id] });
      const conv = alice.client.conversation(conversation.id);
      const first = t.client({ token: bob.token });
      const seen: string[] = [];
      first.on('message.created', (e) => seen.push(e.data.message.content));
      await first.connect();
      await conv.sendMessage('before');
      await until(() => seen.includes('before'), 'the first message');
      const saved = first.realtimePositions;
      expect(saved[conversation.id]).toBeGreaterThan(0);
      await first.close();
      await conv.sendMessage('missed 1');
      await conv.sendMessage('missed 2');
      const second = t.client({ token: bob.token, realtime: { positions: saved } });
      const resumed: string[] = [];
      second.on('message.created', (e) => {
        if (e.conversationId === conversation.id) resumed.push(e.data.message.content);
      });
      await second.connect();
      await conv.sendMessage('live');
      await until(() => resumed.length >= 3, 'replay and live');
      expect(resumed).toEqual(['missed 1', 'missed 2', 'live']);
    });

    it('a revoked token closes the socket (4001); the client refreshes it, reconnects and resumes', async () => {
      const tokens: string[] = [];
      const credential = new RefreshingTokenCredential({
        tokenRefresher: async () => {
          const { token } = await t.admin.createUserToken(bob.user.id, { scopes: ['chat'] });
          tokens.push(token);
          return token;
        },
      });
      const listener = t.client({ credential, realtime: fastReconnect });
      const closeCodes: number[] = [];
      listener.on('connection', (c) => {
        if (c.closeCode !== undefined) closeCodes.push(c.closeCode);
      });
      const { conversation } = await alice.client.createRoom({ title: 'Revoked', members: [bob.user.id] });
      const got: string[] = [];
      listener.on('message.created', (e) => {
        if (e.conversationId === conversation.id) got.push(e.data.message.content);
      });
      await listener.connect();
      await t.admin.deleteUserTokens(bob.user.id);
      await alice.client.conversation(conversation.id).sendMessage('after revocation');
      await until(() => got.length >= 1, 'the message after the new token');
      expect(got).toEqual(['after revocation']);
      expect(closeCodes).toContain(4001);
      expect(tokens.length).toBeGreaterThanOrEqual(2);
      bob = { ...bob, token: tokens.at(-1)!, client: t.client({ token: tokens.at(-1)! }) };
    });

    it('a credential the server refuses closes realtime for good, with the error', async () => {
      const client = t.client({ token: 'pk_invalid', retry: { maxAttempts: 1 } });
      const states: ConnectionState[] = [];
      client.on('connection', (c) => states.push(c.state));
      await expect(client.connect()).rejects.toMatchObject({ code: 'unauthenticated' });
      expect(client.connectionState).toBe('closed');
      expect(states.at(-1)).toBe('closed');
    });

    it('a token without the chat scope, or no credential at all, fails the connection with the reason', async () => {
      const root = await t.user({ admin: true });
      const { token } = await t.admin.createUserToken(root.user.id, { scopes: ['admin'] });
      const adminOnly = t.client({ token });
      await expect(adminOnly.connect()).rejects.toMatchObject({ code: 'forbidden', target: 'scopes' });
      await expect(t.client({}).connect()).rejects.toThrow(/needs a credential/);
    });

    it('close() while connecting rejects connect() and ends event iterators', async () => {
      const client = t.client({ token: bob.token });
      const connecting = client.connect();
      const iterator = client.events();
      await client.close();
      await expect(connecting).rejects.toThrow(/closed/);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
      expect(client.connectionState).toBe('closed');
    });

    it('dropConnection() reconnects and resumes', async () => {
      const listener = t.client({ token: bob.token, realtime: fastReconnect });
      const { conversation } = await alice.client.createRoom({ title: 'Drop', members: [bob.user.id] });
      const got: string[] = [];
      listener.on('message.created', (e) => {
        if (e.conversationId === conversation.id) got.push(e.data.message.content);
      });
      await listener.connect();
      listener.dropConnection();
      await alice.client.conversation(conversation.id).sendMessage('during the drop');
      await until(() => got.length === 1, 'the message');
      await alice.client.conversation(conversation.id).sendMessage('after');
      await until(() => got.length === 2, 'the next message');
      expect(got).toEqual(['during the drop', 'after']);
    });

    it('live(): events replayed from saved positions older than the loaded page wait for loadOlder()', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Replay view', members: [bob.user.id] });
      const conv = alice.client.conversation(conversation.id);
      for (let i = 0; i < 5; i += 1) await conv.sendMessage(`m${i}`);
      // Saved positions from before any of it: the connection replays every event of the conversation.
      const listener = t.client({ token: bob.token, realtime: { positions: { [conversation.id]: 0 } } });
      await using live = await listener.conversation(conversation.id).live({ initialCount: 2 });
      expect(live.messages.map((m) => m.content)).toEqual(['m3', 'm4']);
      await conv.sendMessage('m5');
      await until(() => live.messages.length === 3, 'the new message');
      await live.loadOlder(100);
      const texts = live.messages.filter((m) => m.type === 'text').map((m) => m.content);
      expect(texts).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    });

    it('live(): an ordered, deduplicated message list kept in sync with sends, edits and deletes, across reconnects', async () => {
      const listener = t.client({ baseUrl: proxy.url, token: bob.token, realtime: fastReconnect });
      const { conversation } = await alice.client.createRoom({ title: 'Live view', members: [bob.user.id] });
      const conv = alice.client.conversation(conversation.id);
      const early: Message[] = [];
      for (let i = 0; i < 5; i += 1) early.push(await conv.sendMessage(`old ${i}`));
      await using live = await listener.conversation(conversation.id).live({ initialCount: 3 });
      expect(live.messages.map((m) => m.content)).toEqual(['old 2', 'old 3', 'old 4']);
      expect(live.hasOlder).toBe(true);
      let changes = 0;
      live.onChange(() => (changes += 1));
      const fresh = await conv.sendMessage('new');
      await conv.updateMessage(early[4]!.id, { content: 'old 4 (edited)' });
      await conv.deleteMessage(early[3]!.id);
      await until(() => live.messages.some((m) => m.id === fresh.id) && live.messages.some((m) => m.deletedAt !== null), 'the changes');
      await until(() => live.messages.find((m) => m.id === early[4]!.id)?.content === 'old 4 (edited)', 'the edit');
      expect(changes).toBeGreaterThanOrEqual(3);
      proxy.killWebSockets();
      await conv.sendMessage('sent while reconnecting');
      await until(() => live.messages.some((m) => m.content === 'sent while reconnecting'), 'the resumed message');
      expect(await live.loadOlder(10)).toBeGreaterThanOrEqual(3);
      expect(live.hasOlder).toBe(false);
      const seqs = live.messages.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(live.messages.map((m) => m.id)).size).toBe(live.messages.length);
      const texts = live.messages.filter((m) => m.type === 'text').map((m) => (m.deletedAt ? '(deleted)' : m.content));
      expect(texts).toEqual(['old 0', 'old 1', 'old 2', '(deleted)', 'old 4 (edited)', 'new', 'sent while reconnecting']);
    });
  });
}
