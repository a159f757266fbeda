import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, loadConfig, type ParleyServer, type Store } from '@parley/server';
import { Api } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();
const DAY = 86_400_000;

// What the ACS layer needed from the services, which the native API gains as well: a retention policy
// on conversations (stored, returned, enforced), listing conversations by last activity, and a member's
// display name in one conversation.
describe.each(STORES)('$name: retention policy, activity filter and member display names on the native API', (impl) => {
  let store: Store;
  let server: ParleyServer;
  let dataDir: string;
  let now = Date.parse('2030-01-01T00:00:00.000Z');
  let admin: Api;
  let alice: Api;
  let aliceId: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-retention-'));
    store = await impl.open();
    server = await createServer(loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_PORT: '0', PARLEY_LOG_LEVEL: 'silent' }), { store, clock: () => now });
    const url = await server.listen();
    admin = new Api(url, server.secrets.adminKey);
    const created = await admin.post('/v1/users', { kind: 'human', handle: `ret${process.pid}${Math.random().toString(36).slice(2, 8)}` });
    aliceId = created.body.user.id;
    alice = admin.as((await admin.post(`/v1/users/${aliceId}/tokens`, { scopes: ['chat'] })).body.token);
  });
  afterAll(async () => {
    await server.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores, returns, changes and removes a retention policy', async () => {
    const created = await alice.post('/v1/conversations', { kind: 'room', title: 'Kept 30 days', retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 30 } });
    expect(created.status).toBe(201);
    const id: string = created.body.conversation.id;
    expect(created.body.conversation.retentionPolicy).toEqual({ kind: 'threadCreationDate', deleteThreadAfterDays: 30 });
    expect((await alice.patch(`/v1/conversations/${id}`, { retentionPolicy: { kind: 'none' } })).body.retentionPolicy).toEqual({ kind: 'none' });
    expect((await alice.patch(`/v1/conversations/${id}`, { retentionPolicy: null })).body.retentionPolicy).toBeNull();
    const plain = await alice.post('/v1/conversations', { kind: 'room', title: 'No policy' });
    expect(plain.body.conversation.retentionPolicy).toBeNull();
    for (const bad of [{ kind: 'forever' }, { kind: 'threadCreationDate' }, { kind: 'threadCreationDate', deleteThreadAfterDays: 91 }, { kind: 'none', extra: 1 }]) {
      const res = await alice.post('/v1/conversations', { kind: 'room', title: 'Bad', retentionPolicy: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    }
  });

  it('deletes a conversation once its retention has run out, with a conversation.deleted event', async () => {
    const start = now;
    const doomed = (await alice.post('/v1/conversations', { kind: 'room', title: 'Two days', retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 2 } })).body.conversation;
    const kept = (await alice.post('/v1/conversations', { kind: 'room', title: 'Ten days', retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 10 } })).body.conversation;
    now = start + 2 * DAY - 1;
    expect(await server.services.conversations.deleteRetentionDue()).toBe(0);
    expect((await alice.get(`/v1/conversations/${doomed.id}`)).status).toBe(200);
    const seqBefore = (await alice.get(`/v1/conversations/${doomed.id}`)).body.lastSeq as number;
    now = start + 2 * DAY;
    expect(await server.services.conversations.deleteRetentionDue()).toBe(1);
    expect((await alice.get(`/v1/conversations/${doomed.id}`)).status).toBe(404);
    expect((await alice.get(`/v1/conversations/${kept.id}`)).status).toBe(200);
    const events = await store.events.listAfter(doomed.id, { afterSeq: seqBefore, limit: 10, viewer: null });
    expect(events.map((e) => [e.type, e.actorId])).toEqual([['conversation.deleted', null]]);
  });

  it('gives a member a display name in one conversation, shown for it there and in system messages', async () => {
    const other = await admin.post('/v1/users', { kind: 'human', handle: `nick${process.pid}${Math.random().toString(36).slice(2, 8)}`, displayName: 'Robert' });
    const bobId: string = other.body.user.id;
    const room = await alice.post('/v1/conversations', { kind: 'room', title: 'Names', members: [{ userId: bobId, displayName: 'Bob the Builder' }] });
    expect(room.status).toBe(201);
    const cid: string = room.body.conversation.id;
    expect((await alice.get(`/v1/conversations/${cid}/members/${bobId}`)).body.displayName).toBe('Bob the Builder');
    const system = (await alice.get(`/v1/conversations/${cid}/messages`)).body.items.map((m: { content: string }) => m.content);
    expect(system.some((c: string) => c.includes('Bob the Builder'))).toBe(true);
    // Elsewhere the user keeps its own name.
    const plain = await alice.post('/v1/conversations', { kind: 'room', title: 'Plain', members: [bobId] });
    expect((await alice.get(`/v1/conversations/${plain.body.conversation.id}/members/${bobId}`)).body.displayName).toBe('Robert');
    const added = await alice.post(`/v1/conversations/${plain.body.conversation.id}/members`, { members: [{ userId: aliceId, displayName: 'x'.repeat(257) }] });
    expect(added.status).toBe(400);
  });

  it('lists conversations active since a time', async () => {
    const base = now;
    const quiet = (await alice.post('/v1/conversations', { kind: 'room', title: 'Quiet' })).body.conversation;
    now = base + 1000;
    const busy = (await alice.post('/v1/conversations', { kind: 'room', title: 'Busy' })).body.conversation;
    now = base + 2000;
    await alice.post(`/v1/conversations/${quiet.id}/messages`, { content: 'wake up' });
    const since = (at: number) =>
      alice.get(`/v1/conversations?sort=activity&activeSince=${encodeURIComponent(new Date(at).toISOString())}`).then((r) => r.body.items.map((c: { id: string }) => c.id));
    expect(await since(base + 1500)).toEqual([quiet.id]);
    expect(await since(base + 1000)).toEqual([quiet.id, busy.id]);
    const bad = await alice.get('/v1/conversations?activeSince=soon');
    expect(bad.status).toBe(400);
    // A forged cursor cannot smuggle text into the filter either (it reaches SQL as a number or not at all).
    for (const f of [{ activeSince: 'soon' }, { updatedSince: '1; drop' }, { kind: 'room; x' }, { active: 'yes' }, { title: 5 }]) {
      const cursor = Buffer.from(JSON.stringify({ s: 'activity', k: [base, 'cnv_x'], f })).toString('base64url');
      const forged = await alice.get(`/v1/conversations?cursor=${cursor}`);
      expect(forged.status, JSON.stringify(f)).toBe(400);
      expect(forged.body.error).toMatchObject({ code: 'bad_request', target: 'cursor' });
    }
  });
});
