import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, loadConfig, openStore, type ParleyServer, type Store } from '@parley/server';
import { Api } from './helpers/test-server.js';
import { PG_URL, storeImpls } from './helpers/test-stores.js';
import { REDIS_URL, redisAvailable } from './helpers/test-redis.js';
import { WsClient } from './helpers/ws-client.js';

const runs = (await storeImpls()).some((s) => s.name === 'postgres') && (await redisAvailable());

// Two server processes' worth of Parley (two servers, two stores, two Redis connections) over one
// PostgreSQL schema and one Redis channel: what N processes behind a load balancer are.
describe.runIf(runs)('scale-out: two servers on one PostgreSQL and one Redis', () => {
  const schema = `parley_test_${randomBytes(6).toString('hex')}`;
  const channel = `parley:test:${randomBytes(6).toString('hex')}`;
  const dirs: string[] = [];
  const stores: Store[] = [];
  const servers: ParleyServer[] = [];
  let a: Api;
  let b: Api;

  beforeAll(async () => {
    const secrets = { PARLEY_ADMIN_KEY: `pk_admin_${randomBytes(16).toString('hex')}`, PARLEY_JWT_SECRET: randomBytes(24).toString('hex') };
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'parley-scale-'));
      dirs.push(dir);
      // The second store opens the schema the first migrated; only the first drops it.
      const store = await openStore({ url: PG_URL, schema, dropSchemaOnClose: i === 0 });
      stores.push(store);
      const config = loadConfig({
        PARLEY_DATA_DIR: dir,
        PARLEY_PORT: '0',
        PARLEY_LOG_LEVEL: 'silent',
        PARLEY_REDIS_URL: REDIS_URL,
        PARLEY_REDIS_CHANNEL: channel,
        PARLEY_MESSAGE_RATE_PER_SECOND: '100000',
        PARLEY_MESSAGE_BURST: '100000',
        ...secrets,
      });
      const server = await createServer(config, { store });
      await server.listen();
      servers.push(server);
    }
    a = new Api(servers[0]!.url, secrets.PARLEY_ADMIN_KEY);
    b = new Api(servers[1]!.url, secrets.PARLEY_ADMIN_KEY);
  });

  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const s of [...stores].reverse()) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('shows a client on one server, in order, what is sent on the other, and resumes across servers', async () => {
    const alice = (await a.post('/v1/users', { kind: 'human', handle: `alice${randomBytes(3).toString('hex')}` })).body.user;
    const bob = (await b.post('/v1/users', { kind: 'human', handle: `bob${randomBytes(3).toString('hex')}` })).body.user;
    // A token made by one server is accepted by the other: they share the signing key.
    const aliceToken = (await a.post(`/v1/users/${alice.id}/tokens`, {})).body.token;
    const bobToken = (await b.post(`/v1/users/${bob.id}/tokens`, {})).body.token;
    const aliceOnB = b.as(aliceToken);
    const conv = (await aliceOnB.post('/v1/conversations', { kind: 'room', title: 'across', members: [bob.id] })).body.conversation;

    const ws = await WsClient.connect(servers[0]!.url, bobToken);
    // Sent on both servers at once: seqs interleave, and the client still sees them in order.
    const aliceOnA = a.as(aliceToken);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? aliceOnA : aliceOnB).post(`/v1/conversations/${conv.id}/messages`, { content: `x${i}` })),
    );
    await aliceOnB.post(`/v1/conversations/${conv.id}/messages`, { content: 'done' });
    await ws.next((f) => f.type === 'event' && f.event.data.message?.content === 'done');
    const seqs = ws.events(conv.id).map((e) => e.seq);
    const log = (await b.as(bobToken).get(`/v1/conversations/${conv.id}/events?after=${seqs[0]! - 1}`)).body.items.map((e: any) => e.seq);
    expect(seqs).toEqual(log);
    const messages = ws.events(conv.id).filter((e) => e.type === 'message.created').map((e) => e.data.message.seq);
    expect(messages).toEqual([...messages].sort((x, y) => x - y));

    const last = seqs.at(-1)!;
    ws.close();
    await aliceOnA.post(`/v1/conversations/${conv.id}/messages`, { content: 'while away' });
    const onB = await WsClient.connect(servers[1]!.url, bobToken, { resume: true });
    onB.send({ type: 'resume', positions: { [conv.id]: last } });
    await onB.next((f) => f.type === 'synced');
    expect(onB.events(conv.id).map((e) => e.data.message?.content)).toEqual(['while away']);
    onB.close();
  });
});
