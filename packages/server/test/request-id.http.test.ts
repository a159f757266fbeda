import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const [impl] = await storeImpls();

// Clients (the SDK) send x-request-id so that an error they report can be found in the server's log.
describe('x-request-id', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(impl!);
  });
  afterAll(() => t.close());

  it('echoes a well-formed client request id, on success and on errors', async () => {
    const ok = await t.anon.get('/health', { 'x-request-id': 'abc123-def' });
    expect(ok.headers.get('x-request-id')).toBe('abc123-def');
    const err = await t.anon.get('/v1/me', { 'x-request-id': '0f0f0f0f' });
    expect([err.status, err.body.error.code, err.headers.get('x-request-id')]).toEqual([401, 'unauthenticated', '0f0f0f0f']);
  });

  it('generates one when none or a malformed one is sent (it goes into logs as it is)', async () => {
    const none = await t.anon.get('/health');
    const bad = await t.anon.get('/health', { 'x-request-id': 'has spaces and\ttabs' });
    const long = await t.anon.get('/health', { 'x-request-id': 'x'.repeat(101) });
    for (const res of [none, bad, long]) expect(res.headers.get('x-request-id')).toMatch(/^req-[0-9a-z]+$/);
    expect(none.headers.get('x-request-id')).not.toBe(bad.headers.get('x-request-id'));
  });
});
