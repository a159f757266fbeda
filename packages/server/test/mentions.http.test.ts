import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();

describe.each(STORES)('$name: @mentions', (impl) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let bot: TestUser;
  let outsider: TestUser;
  let roomId: string;
  beforeAll(async () => {
    t = await startTestServer(impl);
    [alice, bob, bot, outsider] = await Promise.all([t.user(), t.user(), t.user({ kind: 'bot' }), t.user()]);
    roomId = (await alice.api.post('/v1/conversations', { kind: 'room', title: 'Mentions', members: [bob.user.id, bot.user.id] })).body.conversation.id;
  });
  afterAll(() => t.close());

  const send = async (body: Record<string, unknown>) => (await alice.api.post(`/v1/conversations/${roomId}/messages`, body)).body;

  it('resolves @handles of members into the message, once each, case-insensitively', async () => {
    const m = await send({ content: `@${bot.user.handle.toUpperCase()} please ping @${bob.user.handle} and @${bot.user.handle} again` });
    expect(m.mentions).toEqual([
      { userId: bot.user.id, handle: bot.user.handle },
      { userId: bob.user.id, handle: bob.user.handle },
    ]);
    // The same in the history and in the event log.
    expect((await bob.api.get(`/v1/conversations/${roomId}/messages/${m.id}`)).body.mentions).toEqual(m.mentions);
    const events = (await bob.api.get(`/v1/conversations/${roomId}/events?after=0&limit=200`)).body.items as any[];
    expect(events.find((e) => e.type === 'message.created' && e.data.message.id === m.id).data.message.mentions).toEqual(m.mentions);
  });

  it('leaves non-members, unknown handles, e-mail addresses, shares and plain text unresolved', async () => {
    expect((await send({ content: `hi @${outsider.user.handle} @nobody-here mail ${bob.user.handle}@example.com` })).mentions).toEqual([]);
    expect((await send({ content: 'no mentions at all' })).mentions).toEqual([]);
    const share = await send({ type: 'share', share: { title: `@${bob.user.handle}`, url: 'https://example.com/' } });
    expect(share.mentions).toEqual([]);
    const html = await send({ type: 'html', content: `<p>Hi <b>@${bob.user.handle}</b></p>` });
    expect(html.mentions).toEqual([{ userId: bob.user.id, handle: bob.user.handle }]);
  });

  it('re-resolves on edit and clears them on delete', async () => {
    const m = await send({ content: `@${bob.user.handle} draft` });
    const edited = await alice.api.patch(`/v1/conversations/${roomId}/messages/${m.id}`, { content: `@${bot.user.handle} final` });
    expect(edited.body.mentions).toEqual([{ userId: bot.user.id, handle: bot.user.handle }]);
    const metaOnly = await alice.api.patch(`/v1/conversations/${roomId}/messages/${m.id}`, { metadata: { k: 'v' } });
    expect(metaOnly.body.mentions).toEqual(edited.body.mentions);
    expect((await alice.api.delete(`/v1/conversations/${roomId}/messages/${m.id}`)).status).toBe(204);
    expect((await alice.api.get(`/v1/conversations/${roomId}/messages/${m.id}`)).body.mentions).toEqual([]);
  });

  it('marks system messages with no mentions', async () => {
    const list = await alice.api.get(`/v1/conversations/${roomId}/messages?order=asc&limit=5`);
    const system = (list.body.items as any[]).filter((m) => m.type === 'system');
    expect(system.length).toBeGreaterThan(0);
    for (const m of system) expect(m.mentions).toEqual([]);
  });
});
