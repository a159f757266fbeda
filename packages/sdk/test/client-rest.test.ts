import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyApiError, ParleyClient, isParleyApiError } from '@parley/sdk';
import { rejection } from './helpers/assertions.js';
import { collect, startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const impls = await storeImpls();

for (const impl of impls) {
  describe(`${impl.name}: ParleyClient REST`, () => {
    let t: TestServer;
    let alice: TestUser;
    let bob: TestUser;
    let carol: TestUser;
    beforeAll(async () => {
      t = await startTestServer(impl);
      [alice, bob, carol] = await Promise.all([t.user(), t.user(), t.user()]);
    });
    afterAll(() => t.close());

    it('system: getHealth and getLimits need no credential', async () => {
      const anon = t.client({});
      expect((await anon.getHealth()).status).toBe('ok');
      expect((await anon.getLimits()).maxPageSize).toBeGreaterThan(0);
    });

    it('identity: createUser, getUser, listUsers by handle, updateUser, deleteUser', async () => {
      const handle = `dora${Date.now().toString(36)}`;
      const { user, apiKey } = await t.admin.createUser({ kind: 'human', handle, displayName: 'Dora', password: 'correct horse' });
      expect(apiKey).toBeUndefined();
      expect((await alice.client.getUser(user.id)).handle).toBe(handle);
      expect((await collect(t.admin.listUsers({ handle }))).map((u) => u.id)).toEqual([user.id]);
      expect((await t.admin.updateUser(user.id, { displayName: 'Dora D.' })).displayName).toBe('Dora D.');
      await t.admin.deleteUser(user.id);
      expect((await rejection(t.admin.getUser(user.id))).code).toBe('not_found');
    });

    it('identity: a bot gets an API key; createApiKey, listApiKeys, deleteApiKey, rotateApiKey; the key is exchanged for tokens', async () => {
      const { user, apiKey } = await t.admin.createUser({ kind: 'bot', handle: `bot${Date.now().toString(36)}` });
      expect(apiKey).toBeTruthy();
      const bot = t.client({ apiKey: apiKey! });
      const me = await bot.getMe();
      // The client exchanged the key for a token: /v1/me reports a token credential.
      expect(me).toMatchObject({ user: { id: user.id }, credential: 'token' });
      const raw = t.client({ token: apiKey! });
      expect((await raw.getMe()).credential).toBe('apiKey');
      const exchanged = await raw.createToken({ expiresInSeconds: 120 });
      expect(exchanged.userId).toBe(user.id);
      const second = await raw.createApiKey(user.id, { name: 'ci' });
      const keys = await collect(raw.listApiKeys(user.id));
      expect(keys.map((k) => k.name).sort()).toEqual(['ci', 'default']);
      await raw.deleteApiKey(user.id, second.apiKey.id);
      expect((await collect(raw.listApiKeys(user.id))).map((k) => k.name)).toEqual(['default']);
      const revoked = t.client({ token: second.key, retry: { maxAttempts: 1 } });
      expect((await rejection(revoked.getMe())).code).toBe('unauthenticated');
      const defaultKey = (await collect(raw.listApiKeys(user.id)))[0]!;
      const rotated = await t.admin.rotateApiKey(user.id, defaultKey.id);
      expect(rotated.apiKey).toMatchObject({ name: 'default' });
      expect((await t.client({ token: rotated.key }).getMe()).user.id).toBe(user.id);
      expect((await rejection(t.client({ token: apiKey!, retry: { maxAttempts: 1 } }).getMe())).code).toBe('unauthenticated');
    });

    it('identity: login with password; createUserToken; deleteUserTokens revokes', async () => {
      const handle = `erin${Date.now().toString(36)}`;
      const { user } = await t.admin.createUser({ kind: 'human', handle, password: 'sesame-sesame' });
      const anon = t.client({});
      const login = await anon.login({ handle, password: 'sesame-sesame' });
      expect(login.userId).toBe(user.id);
      const wrong = await rejection(anon.login({ handle, password: 'nope-nope-nope' }));
      expect([wrong.code, wrong.status]).toEqual(['unauthenticated', 401]);
      const issued = await t.admin.createUserToken(user.id, { scopes: ['chat'], expiresInSeconds: 600 });
      const erin = t.client({ token: issued.token, retry: { maxAttempts: 1 } });
      expect((await erin.getMe()).scopes).toEqual(['chat']);
      await t.admin.deleteUserTokens(user.id);
      expect((await rejection(erin.getMe())).code).toBe('unauthenticated');
    });

    it('errors: one ParleyApiError with code, status, message, target and request id', async () => {
      const err = await rejection(alice.client.getConversation('cnv_nope'));
      expect(err).toBeInstanceOf(ParleyApiError);
      expect(err.name).toBe('ParleyApiError');
      expect(err).toMatchObject({ code: 'not_found', status: 404 });
      expect(err.message).toMatch(/./);
      // The id the SDK sent, as the server echoed it (and logged it).
      expect(err.requestId).toMatch(/^[0-9a-f]{32}$/);
      const bad = await rejection(alice.client.createRoom({ title: 'x', keywords: [''] }));
      expect([bad.code, bad.status, bad.target]).toEqual(['bad_request', 400, 'keywords[0]']);
      const forbidden = await rejection(alice.client.createUser({ kind: 'human', handle: 'nope' }));
      expect([forbidden.code, forbidden.status]).toEqual(['forbidden', 403]);
      expect(isParleyApiError(new Error('x'))).toBe(false);
      const lookalike = Object.assign(new Error('x'), { name: 'ParleyApiError', code: 'conflict', status: 409 });
      expect(isParleyApiError(lookalike)).toBe(true);
    });

    it('conversations: createRoom with members and a first message; get; update; list with filters; find by title', async () => {
      const title = `Design ${Date.now()}`;
      const created = await alice.client.createRoom({
        title,
        description: 'All things design',
        keywords: ['ux'],
        members: [bob.user.id, { userId: carol.user.id, role: 'owner' }],
        message: { content: 'Welcome' },
      });
      expect(created.created).toBe(true);
      expect(created.message?.content).toBe('Welcome');
      const id = created.conversation.id;
      expect((await bob.client.getConversation(id)).memberCount).toBe(3);
      const updated = await alice.client.updateConversation(id, { description: 'Design and more', readOnly: true });
      expect(updated).toMatchObject({ description: 'Design and more', readOnly: true });
      const found = await collect(bob.client.listConversations({ title }));
      expect(found.map((c) => c.id)).toEqual([id]);
      const rooms = await collect(bob.client.listConversations({ kind: 'room', active: true, updatedSince: new Date(Date.now() - 60_000), sort: 'activity' }));
      expect(rooms.map((c) => c.id)).toContain(id);
      expect(await collect(bob.client.listConversations({ kind: 'direct' }))).toEqual([]);
    });

    it('conversations: createDirectConversation returns the same one again; createGroupConversation; idempotency key', async () => {
      const first = await alice.client.createDirectConversation(bob.user.id, { message: { content: 'hi' } });
      const again = await alice.client.createDirectConversation(bob.user.id);
      expect([first.created, again.created, again.conversation.id]).toEqual([true, false, first.conversation.id]);
      const group = await alice.client.createGroupConversation([bob.user.id, carol.user.id], { metadata: { team: 'a' } });
      expect(group.conversation).toMatchObject({ kind: 'group', memberCount: 3, metadata: { team: 'a' } });
      const key = `create-${Date.now()}`;
      const r1 = await alice.client.createConversation({ kind: 'room', title: 'Once' }, { idempotencyKey: key });
      const r2 = await alice.client.createConversation({ kind: 'room', title: 'Once' }, { idempotencyKey: key });
      expect(r2.conversation.id).toBe(r1.conversation.id);
      // Without a key of its own, every call is a new room (the SDK's automatic key is per call).
      const r3 = await alice.client.createConversation({ kind: 'room', title: 'Once' });
      expect(r3.conversation.id).not.toBe(r1.conversation.id);
    });

    it('conversations: deactivate, reactivate, join, leave, delete', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Public', public: true });
      const id = conversation.id;
      expect((await alice.client.deactivateConversation(id)).active).toBe(false);
      expect((await rejection(alice.client.conversation(id).sendMessage('no'))).code).toBe('conflict');
      expect((await alice.client.reactivateConversation(id)).active).toBe(true);
      expect((await bob.client.joinConversation(id)).userId).toBe(bob.user.id);
      await bob.client.leaveConversation(id);
      expect((await rejection(alice.client.conversation(id).getMember(bob.user.id))).code).toBe('not_found');
      await alice.client.deleteConversation(id);
      expect((await rejection(alice.client.getConversation(id))).code).toBe('not_found');
    });

    it('conversation(id): the same operations through the handle', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Handle', public: true });
      const conv = alice.client.conversation(conversation.id);
      expect(conv.id).toBe(conversation.id);
      expect((await conv.get()).title).toBe('Handle');
      expect((await conv.update({ title: 'Handle 2' })).title).toBe('Handle 2');
      expect((await conv.deactivate()).active).toBe(false);
      expect((await conv.reactivate()).active).toBe(true);
      const bobConv = bob.client.conversation(conversation.id);
      expect((await bobConv.join()).role).toBe('member');
      await bobConv.leave();
      await conv.delete();
      expect((await rejection(conv.get())).code).toBe('not_found');
    });

    it('members: list, addMembers with per-participant failures, addMember, get, promote, demote, remove', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Members' });
      const conv = alice.client.conversation(conversation.id);
      const result = await conv.addMembers([bob.user.id, 'usr_doesnotexist']);
      expect(result.added.map((m) => m.userId)).toEqual([bob.user.id]);
      expect(result.failures).toEqual([expect.objectContaining({ userId: 'usr_doesnotexist', error: expect.objectContaining({ code: 'not_found' }) })]);
      const historyFrom = new Date().toISOString();
      const carolMember = await conv.addMember({ userId: carol.user.id, historyFrom });
      expect(carolMember.userId).toBe(carol.user.id);
      const failed = await rejection(conv.addMember('usr_doesnotexist'));
      expect([failed.code, failed.target]).toEqual(['not_found', 'usr_doesnotexist']);
      expect((await collect(conv.listMembers())).map((m) => m.userId).sort()).toEqual([alice.user.id, bob.user.id, carol.user.id].sort());
      expect((await conv.getMember('me')).role).toBe('owner');
      expect((await conv.promoteMember(bob.user.id)).role).toBe('owner');
      expect((await conv.demoteMember(bob.user.id)).role).toBe('member');
      expect((await conv.updateMember(bob.user.id, { role: 'owner' })).role).toBe('owner');
      await conv.removeMember(carol.user.id);
      expect((await rejection(conv.getMember(carol.user.id))).code).toBe('not_found');
      const skipped = await collect(conv.listMembers({ skip: 1 }));
      expect(skipped).toHaveLength(1);
    });

    it('messages: send text and html with metadata and display name, share, get, list by range and time, edit, delete', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Messages', members: [bob.user.id] });
      const conv = alice.client.conversation(conversation.id);
      const text = await conv.sendMessage('hello', { metadata: { k: 'v' }, senderDisplayName: 'Alice A.' });
      expect(text).toMatchObject({ type: 'text', content: 'hello', metadata: { k: 'v' }, senderDisplayName: 'Alice A.' });
      const html = await conv.sendMessage('<b>bold</b><script>x</script>', { type: 'html' });
      expect(html.type).toBe('html');
      expect(html.content).not.toContain('<script>');
      const full = await conv.sendMessage({ content: 'full request', metadata: { a: '1' } });
      expect(full.metadata).toEqual({ a: '1' });
      const share = await conv.sendShare({ title: 'News', url: 'https://example.com/news' }, { content: 'look' });
      expect(share).toMatchObject({ type: 'share', share: { title: 'News' } });
      expect((await bob.client.conversation(conversation.id).getMessage(text.id)).content).toBe('hello');
      const asc = await collect(conv.listMessages({ order: 'asc', after: text.seq - 1 }));
      expect(asc.map((m) => m.id)).toEqual([text.id, html.id, full.id, share.id]);
      const desc = await collect(conv.listMessages({ before: share.seq }));
      expect(desc[0]!.id).toBe(full.id);
      const recent = await collect(conv.listMessages({ startTime: new Date(Date.parse(text.createdAt)), order: 'asc' }));
      expect(recent.map((m) => m.id)).toContain(share.id);
      const edited = await conv.updateMessage(text.id, { content: 'hello, edited', metadata: { k: 'w' } });
      expect(edited).toMatchObject({ content: 'hello, edited', version: 2, metadata: { k: 'w' } });
      await conv.deleteMessage(html.id);
      expect((await conv.getMessage(html.id)).deletedAt).not.toBeNull();
      const notAuthor = await rejection(bob.client.conversation(conversation.id).updateMessage(text.id, { content: 'x' }));
      expect(notAuthor.code).toBe('forbidden');
    });

    it('messages: a send with the same idempotency key is one message', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Idem' });
      const conv = alice.client.conversation(conversation.id);
      const a = await conv.sendMessage('once', { idempotencyKey: 'k-1' });
      const b = await conv.sendMessage('once', { idempotencyKey: 'k-1' });
      expect(b.id).toBe(a.id);
      expect((await collect(conv.listMessages())).filter((m) => m.type === 'text')).toHaveLength(1);
    });

    it('events, typing, read receipts, signals', async () => {
      const { conversation } = await alice.client.createRoom({ title: 'Events', members: [bob.user.id] });
      const conv = alice.client.conversation(conversation.id);
      const bobConv = bob.client.conversation(conversation.id);
      const m1 = await conv.sendMessage('one');
      const m2 = await conv.sendMessage('two');
      const events = await collect(conv.listEvents());
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'message.created').map((e) => (e as { data: { message: { id: string } } }).data.message.id)).toEqual(
        expect.arrayContaining([m1.id, m2.id]),
      );
      const after = await collect(conv.listEvents({ after: events.at(-2)!.seq }));
      expect(after.map((e) => e.seq)).toEqual([events.at(-1)!.seq]);
      const typing = await bobConv.sendTyping();
      expect(typing.sent).toBe(true);
      expect((await bobConv.sendTyping()).sent).toBe(false);
      const receipt = await bobConv.sendReadReceipt({ messageId: m1.id });
      expect(receipt).toMatchObject({ userId: bob.user.id, messageId: m1.id });
      expect((await bobConv.sendReadReceipt()).messageId).toBe(m2.id);
      const receipts = await collect(conv.listReadReceipts());
      expect(receipts.find((r) => r.userId === bob.user.id)?.messageId).toBe(m2.id);
      expect((await collect(bob.client.listConversations({ title: 'Events' })))[0]!.unreadCount).toBe(0);
      const signal = await conv.sendSignal(bob.user.id, { status: 'working' });
      expect(signal.seq).toBeGreaterThan(events.at(-1)!.seq);
      const bobSees = await collect(bobConv.listEvents({ after: signal.seq - 1 }));
      expect(bobSees).toEqual([expect.objectContaining({ type: 'signal', data: { to: bob.user.id, data: { status: 'working' } } })]);
    });

    it('client options: one credential only, an http(s) base URL, close() and await using', async () => {
      expect(() => new ParleyClient({ baseUrl: t.url, token: 'a', apiKey: 'b' })).toThrow(TypeError);
      expect(() => new ParleyClient({ baseUrl: 'ftp://x' })).toThrow(TypeError);
      let closed: ParleyClient;
      {
        await using c = new ParleyClient({ baseUrl: `${t.url}/`, token: alice.token });
        closed = c;
        expect(c.baseUrl).toBe(t.url);
        expect((await c.getMe()).user.id).toBe(alice.user.id);
      }
      await expect(closed.getMe()).rejects.toThrow(/closed/);
    });

    it('cancels a call with an AbortSignal', async () => {
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      await expect(alice.client.getMe({ signal: controller.signal })).rejects.toThrow('stop');
    });
  });
}
