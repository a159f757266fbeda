import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatRegistry, TypeRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ParleyEventSchema } from '@parley/protocol';
import { startTestServer, type ApiResponse, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

// The per-conversation event log over REST: dense, ordered, resumable with `after`, scrubbed of deleted
// content, and filtered by what each member may see. Every test makes its own users and conversations.

const STORES = await storeImpls();

// TypeBox's Value.Check knows no string formats until told; these are the ones the event schemas use.
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)));
}
if (!FormatRegistry.Has('uri')) FormatRegistry.Set('uri', (v) => URL.canParse(v));
// The protocol's StringEnum is a Type.Unsafe carrying a JSON Schema `enum`.
if (!TypeRegistry.Has('Unsafe')) {
  TypeRegistry.Set<{ enum?: unknown[] }>('Unsafe', (schema, value) => typeof value === 'string' && (schema.enum?.includes(value) ?? true));
}

/** Where an event departs from the documented schema, briefly. */
const schemaErrors = (e: unknown) => [...Value.Errors(ParleyEventSchema, e)].slice(0, 3).map((x) => `${x.path}: ${x.message}`);

function expectError(res: ApiResponse<any>, status: number, code: string, target?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body?.error?.code, JSON.stringify(res.body)).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  if (target !== undefined) expect(res.body.error.target).toBe(target);
}

describe.each(STORES)('$name: events over HTTP', (impl) => {
  let t: TestServer;
  let maxPageSize: number;
  beforeAll(async () => {
    t = await startTestServer(impl);
    maxPageSize = (await t.anon.get('/v1/limits')).body.maxPageSize;
  });
  afterAll(() => t.close());

  async function openRoom(owner: TestUser, members: TestUser[] = [], extra: Record<string, unknown> = {}): Promise<string> {
    const res = await owner.api.post('/v1/conversations', {
      kind: 'room',
      title: `Room ${Math.random().toString(36).slice(2)}`,
      members: members.map((m) => m.user.id),
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.conversation.id;
  }

  async function send(u: TestUser, cid: string, body: Record<string, unknown>): Promise<any> {
    const res = await u.api.post(`/v1/conversations/${cid}/messages`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  async function ok(res: Promise<ApiResponse<any>>, status = 200): Promise<any> {
    const r = await res;
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    return r.body;
  }

  /** Every event `u` may see, walking pages with `after`, checking each page's shape. */
  async function allEvents(u: TestUser, cid: string, pageSize = maxPageSize): Promise<any[]> {
    const out: any[] = [];
    let after = 0;
    for (;;) {
      const page = await ok(u.api.get(`/v1/conversations/${cid}/events?after=${after}&limit=${pageSize}`));
      expect(page.items.length).toBeLessThanOrEqual(pageSize);
      out.push(...page.items);
      if (!page.hasMore) break;
      expect(page.items.length).toBe(pageSize);
      after = page.items.at(-1).seq;
    }
    return out;
  }

  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('records every change as dense, ordered, well-formed events of the documented types', async () => {
    const [owner, bob, carol] = [await t.user(), await t.user(), await t.user()];
    const cid = await openRoom(owner, [bob]);
    const m1 = await send(owner, cid, { content: 'first' });
    await ok(owner.api.patch(`/v1/conversations/${cid}/messages/${m1.id}`, { content: 'first, edited' }));
    const m2 = await send(bob, cid, { content: 'second' });
    await ok(bob.api.delete(`/v1/conversations/${cid}/messages/${m2.id}`), 204);
    await ok(owner.api.post(`/v1/conversations/${cid}/members`, { members: [carol.user.id] }));
    await ok(owner.api.patch(`/v1/conversations/${cid}/members/${carol.user.id}`, { role: 'owner' }));
    await ok(owner.api.patch(`/v1/conversations/${cid}`, { title: 'Renamed', description: 'now with a description' }));
    await ok(owner.api.delete(`/v1/conversations/${cid}/members/${carol.user.id}`), 204);
    await ok(owner.api.post(`/v1/conversations/${cid}/deactivate`));
    await ok(owner.api.post(`/v1/conversations/${cid}/reactivate`));

    const page = await ok(owner.api.get(`/v1/conversations/${cid}/events`));
    const conv = await ok(owner.api.get(`/v1/conversations/${cid}`));
    expect(page.hasMore).toBe(false);
    expect(page.lastSeq).toBe(conv.lastSeq);
    const events: any[] = page.items;
    expect(events.map((e) => e.seq)).toEqual(range(1, conv.lastSeq));
    expect(events.map((e) => e.type)).toEqual([
      'conversation.created',
      'message.created', // "created the room"
      'member.added', // the owner
      'member.added', // bob
      'message.created', // "added bob"
      'message.created', // m1
      'message.edited',
      'message.created', // m2
      'message.deleted',
      'member.added', // carol
      'message.created',
      'member.role_changed',
      'message.created',
      'conversation.updated',
      'message.created', // "changed the title"
      'member.removed',
      'message.created',
      'conversation.deactivated',
      'message.created',
      'conversation.reactivated',
      'message.created',
    ]);
    for (const e of events) {
      expect(Value.Check(ParleyEventSchema, e), schemaErrors(e).join('; ')).toBe(true);
      expect(e.id).toMatch(/^evt_/);
      expect(e.conversationId).toBe(cid);
      expect(Number.isNaN(Date.parse(e.createdAt))).toBe(false);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // Actors and payloads.
    expect(events[0].actorId).toBe(owner.user.id);
    expect(events[0].data.conversation).toMatchObject({ id: cid, kind: 'room', active: true });
    expect(events[0].data.conversation).not.toHaveProperty('myRole');
    expect(events[3].data.member).toMatchObject({ userId: bob.user.id, role: 'member' });
    expect(events[7]).toMatchObject({ actorId: bob.user.id, data: { message: { id: m2.id } } });
    expect(events[11].data).toMatchObject({ member: { userId: carol.user.id, role: 'owner' }, previousRole: 'member' });
    expect([...events[13].data.changes].sort()).toEqual(['description', 'title']);
    expect(events[13].data.conversation.title).toBe('Renamed');
    expect(events[15].data).toMatchObject({ member: { userId: carol.user.id }, left: false });
    expect(events[17].data).toMatchObject({ conversation: { active: false }, changes: ['active'] });
    expect(events[19].data).toMatchObject({ conversation: { active: true }, changes: ['active'] });
    // Message events carry the message as it now is, with its message seq.
    const messages = (await ok(owner.api.get(`/v1/conversations/${cid}/messages?order=asc`))).items;
    const created = events.filter((e) => e.type === 'message.created').map((e) => e.data.message);
    expect(created).toEqual(messages);
  });

  it('returns only events after `after`, pages with `limit` and `hasMore`, and resumes anywhere', async () => {
    const owner = await t.user();
    const cid = await openRoom(owner);
    for (let i = 0; i < 7; i++) await send(owner, cid, { content: `n${i}` });
    const full = await ok(owner.api.get(`/v1/conversations/${cid}/events?after=0`));
    const lastSeq = full.lastSeq;
    expect(full.items.map((e: any) => e.seq)).toEqual(range(1, lastSeq));

    const tail = await ok(owner.api.get(`/v1/conversations/${cid}/events?after=${lastSeq - 3}`));
    expect(tail.items).toEqual(full.items.slice(-3));
    expect(tail.hasMore).toBe(false);

    const first = await ok(owner.api.get(`/v1/conversations/${cid}/events?limit=2`));
    expect(first.items).toEqual(full.items.slice(0, 2));
    expect(first.hasMore).toBe(true);
    expect(first.lastSeq).toBe(lastSeq);

    const exact = await ok(owner.api.get(`/v1/conversations/${cid}/events?after=${lastSeq - 2}&limit=2`));
    expect(exact.items.map((e: any) => e.seq)).toEqual([lastSeq - 1, lastSeq]);
    expect(exact.hasMore).toBe(false);

    expect(await allEvents(owner, cid, 3)).toEqual(full.items);
    const empty = await ok(owner.api.get(`/v1/conversations/${cid}/events?after=${lastSeq}`));
    expect(empty).toEqual({ items: [], lastSeq, hasMore: false });
    expect((await ok(owner.api.get(`/v1/conversations/${cid}/events?after=${lastSeq + 100}`))).items).toEqual([]);

    // New activity shows up for a reader resuming from the last seq it saw.
    const later = await send(owner, cid, { content: 'later' });
    const resumed = await ok(owner.api.get(`/v1/conversations/${cid}/events?after=${lastSeq}`));
    expect(resumed.items.map((e: any) => [e.seq, e.type, e.data.message.id])).toEqual([[lastSeq + 1, 'message.created', later.id]]);
  });

  it('never replays edited-away or deleted content', async () => {
    const [owner, bob] = [await t.user(), await t.user()];
    const cid = await openRoom(owner, [bob]);
    const edited = await send(owner, cid, { content: 'original wording ALPHA' });
    await ok(owner.api.patch(`/v1/conversations/${cid}/messages/${edited.id}`, { content: 'better wording BETA' }));
    const doomed = await send(bob, cid, { content: 'secret GAMMA', metadata: { tag: 'DELTA' } });
    await ok(bob.api.patch(`/v1/conversations/${cid}/messages/${doomed.id}`, { content: 'secret EPSILON' }));
    await ok(owner.api.delete(`/v1/conversations/${cid}/messages/${doomed.id}`), 204);
    const share = await send(bob, cid, { type: 'share', share: { title: 'ZETA', url: 'https://zeta.example/' } });
    await ok(bob.api.delete(`/v1/conversations/${cid}/messages/${share.id}`), 204);

    for (const reader of [owner, bob]) {
      const events = await allEvents(reader, cid);
      const text = JSON.stringify(events);
      for (const gone of ['ALPHA', 'GAMMA', 'DELTA', 'EPSILON', 'ZETA']) expect(text).not.toContain(gone);
      expect(text).toContain('BETA');
      const aboutDoomed = events.filter((e) => e.data.message?.id === doomed.id);
      expect(aboutDoomed.map((e) => e.type)).toEqual(['message.created', 'message.edited', 'message.deleted']);
      for (const e of aboutDoomed) {
        expect(e.data.message).toMatchObject({ content: '', metadata: {}, seq: doomed.seq });
        expect(e.data.message.deletedAt).not.toBeNull();
      }
      const aboutShare = events.filter((e) => e.data.message?.id === share.id);
      for (const e of aboutShare) expect(e.data.message.share).toBeNull();
      expect(aboutDoomed.find((e) => e.type === 'message.deleted').actorId).toBe(owner.user.id);
    }
  });

  it('hides events from before a member joined a room hiding history, including later edits of earlier messages', async () => {
    const [owner, late] = [await t.user(), await t.user()];
    const cid = await openRoom(owner, [], { historyVisibleToNewMembers: false });
    const early = await send(owner, cid, { content: 'early' });
    const added = await ok(owner.api.post(`/v1/conversations/${cid}/members`, { members: [late.user.id] }));
    expect(added.added[0].historyFrom).not.toBeNull();
    await ok(owner.api.patch(`/v1/conversations/${cid}/messages/${early.id}`, { content: 'early, edited after the join' }));
    const later = await send(owner, cid, { content: 'later' });

    const ownerEvents = await allEvents(owner, cid);
    const lateEvents = await allEvents(late, cid);
    expect(lateEvents[0]).toMatchObject({ type: 'member.added', data: { member: { userId: late.user.id } } });
    expect(lateEvents.every((e) => e.data.message?.id !== early.id)).toBe(true);
    expect(JSON.stringify(lateEvents)).not.toContain('early');
    expect(lateEvents.at(-1)).toMatchObject({ type: 'message.created', data: { message: { id: later.id } } });
    // What the late member sees is exactly the owner's log from its arrival on, less the edit of the early message.
    const arrival = lateEvents[0].seq;
    expect(lateEvents).toEqual(ownerEvents.filter((e) => e.seq >= arrival && e.data.message?.id !== early.id));
    // Seqs stay those of the conversation, so resuming with `after` still works.
    const resumed = await ok(late.api.get(`/v1/conversations/${cid}/events?after=${arrival}`));
    expect(resumed.items).toEqual(lateEvents.slice(1));
  });

  it('shows a member with visible history the whole log', async () => {
    const [owner, late] = [await t.user(), await t.user()];
    const cid = await openRoom(owner, [], { historyVisibleToNewMembers: true });
    await send(owner, cid, { content: 'early' });
    await ok(owner.api.post(`/v1/conversations/${cid}/members`, { members: [late.user.id] }));
    expect(await allEvents(late, cid)).toEqual(await allEvents(owner, cid));
  });

  it('delivers the events of a visibleTo message only to that member and its sender', async () => {
    const [owner, bob, carol] = [await t.user(), await t.user(), await t.user()];
    const cid = await openRoom(owner, [bob, carol]);
    const whisper = await send(owner, cid, { content: 'just for bob', visibleTo: bob.user.id });
    await ok(owner.api.patch(`/v1/conversations/${cid}/messages/${whisper.id}`, { content: 'still just for bob' }));
    const open = await send(owner, cid, { content: 'for everyone' });

    const about = (events: any[]) => events.filter((e) => e.data.message?.id === whisper.id).map((e) => e.type);
    expect(about(await allEvents(owner, cid))).toEqual(['message.created', 'message.edited']);
    expect(about(await allEvents(bob, cid))).toEqual(['message.created', 'message.edited']);
    const carolEvents = await allEvents(carol, cid);
    expect(about(carolEvents)).toEqual([]);
    expect(JSON.stringify(carolEvents)).not.toContain('just for bob');
    expect(carolEvents.at(-1).data.message.id).toBe(open.id);
  });

  it('answers 400 for bad parameters, 413 over the page size, 401, 403 for non-members, 404 for unknown or hidden conversations', async () => {
    const [owner, stranger] = [await t.user(), await t.user()];
    const pub = await openRoom(owner, [], { public: true });
    const priv = await openRoom(owner);
    const ev = (cid: string, q = '') => `/v1/conversations/${cid}/events${q}`;
    expectError(await owner.api.get(ev(pub, '?after=-1')), 400, 'bad_request', 'after');
    expectError(await owner.api.get(ev(pub, '?after=one')), 400, 'bad_request', 'after');
    expectError(await owner.api.get(ev(pub, '?after=9223372036854775808')), 400, 'bad_request', 'after');
    expectError(await owner.api.get(ev(pub, '?limit=0')), 400, 'bad_request', 'limit');
    expectError(await owner.api.get(ev(pub, `?limit=${maxPageSize + 1}`)), 413, 'limit_exceeded', 'limit');
    expectError(await t.anon.get(ev(pub)), 401, 'unauthenticated');
    expectError(await stranger.api.get(ev(pub)), 403, 'forbidden');
    expectError(await t.admin.get(ev(priv)), 403, 'forbidden');
    expectError(await stranger.api.get(ev(priv)), 404, 'not_found');
    expectError(await owner.api.get(ev('cnv_doesnotexist')), 404, 'not_found');

    // A member who left can no longer read the log.
    const member = await t.user();
    const cid = await openRoom(owner, [member]);
    expect((await member.api.get(ev(cid))).status).toBe(200);
    await ok(member.api.post(`/v1/conversations/${cid}/leave`), 204);
    expectError(await member.api.get(ev(cid)), 404, 'not_found');

    // A deleted conversation is gone.
    await ok(owner.api.delete(`/v1/conversations/${pub}`), 204);
    expectError(await owner.api.get(ev(pub)), 404, 'not_found');
  });
});
