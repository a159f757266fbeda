import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const [impl] = await storeImpls();

describe('system endpoints and request handling', () => {
  let t: TestServer;
  let u: TestUser;
  beforeAll(async () => {
    // Small limits, so that going over them is cheap to test.
    t = await startTestServer(impl!, { PARLEY_MAX_BODY_BYTES: '4096', PARLEY_MAX_MESSAGE_LENGTH: '100', PARLEY_MAX_PAGE_SIZE: '20', PARLEY_DEFAULT_PAGE_SIZE: '5' });
    u = await t.user();
  });
  afterAll(() => t.close());

  it('answers /health without credentials', async () => {
    const res = await t.anon.get('/health');
    expect([res.status, res.body.status]).toEqual([200, 'ok']);
  });

  it('returns the configured limits and enforces them', async () => {
    const limits = (await t.anon.get('/v1/limits')).body;
    expect(limits).toMatchObject({ maxBodyBytes: 4096, maxMessageLength: 100, maxPageSize: 20, defaultPageSize: 5, maxMembersPageSize: 1000 });
    const c = (await u.api.post('/v1/conversations', { kind: 'room', title: 'limits' })).body.conversation;
    const long = await u.api.post(`/v1/conversations/${c.id}/messages`, { content: 'x'.repeat(101) });
    expect([long.status, long.body.error.code, long.body.error.target]).toEqual([413, 'limit_exceeded', 'content']);
    expect((await u.api.post(`/v1/conversations/${c.id}/messages`, { content: 'x'.repeat(100) })).status).toBe(201);
    const huge = await u.api.post(`/v1/conversations/${c.id}/messages`, { content: 'y'.repeat(5000) });
    expect([huge.status, huge.body.error.code]).toEqual([413, 'limit_exceeded']);
    const page = await u.api.get(`/v1/conversations/${c.id}/messages?limit=21`);
    expect([page.status, page.body.error.code, page.body.error.target]).toEqual([413, 'limit_exceeded', 'limit']);
  });

  it('serves a complete OpenAPI document and the browsable /docs', async () => {
    const spec = (await t.anon.get('/openapi.json')).body;
    expect(spec.openapi).toMatch(/^3\./);
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const operations = Object.entries(spec.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThan(30);
    for (const { path, method, op } of operations) {
      expect(op.summary, `${method} ${path} summary`).toBeTruthy();
      expect(op.tags?.length, `${method} ${path} tags`).toBeGreaterThan(0);
      const codes = Object.keys(op.responses);
      expect(codes.some((c) => c.startsWith('2')), `${method} ${path} success response`).toBe(true);
      if (op.parameters?.length || op.requestBody) expect(codes, `${method} ${path} documents 400`).toContain('400');
      const secured = op.security === undefined ? spec.security.length > 0 : op.security.length > 0;
      if (secured) expect(codes, `${method} ${path} documents 401`).toContain('401');
    }
    const docs = await fetch(`${t.url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
  });

  it('answers unknown routes, bad JSON, wrong content types and missing credentials with the standard body', async () => {
    const unknown = await u.api.get('/v1/nothing-here');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
    const badJson = await u.api.post('/v1/conversations', '{"kind":', { 'content-type': 'application/json' });
    expect([badJson.status, badJson.body.error.code]).toEqual([400, 'bad_request']);
    const text = await u.api.post('/v1/conversations', 'kind=room', { 'content-type': 'text/plain' });
    expect(text.status).toBeGreaterThanOrEqual(400);
    expect(text.status).toBeLessThan(500);
    expect(text.body.error.code).toBe('bad_request');
    const proto = await u.api.post('/v1/conversations', '{"kind":"room","title":"p","__proto__":{"admin":true}}');
    expect(proto.status).toBe(400);
    // Bodies are typed JSON: nothing is coerced (query strings, being text, are).
    const c = (await u.api.post('/v1/conversations', { kind: 'room', title: 'types' })).body.conversation;
    for (const body of [{ content: 123 }, { content: ['x'] }, { content: 'x', metadata: { k: 1 } }]) {
      const typed = await u.api.post(`/v1/conversations/${c.id}/messages`, body);
      expect([typed.status, typed.body.error.code]).toEqual([400, 'bad_request']);
    }
    const members = await u.api.post(`/v1/conversations/${c.id}/members`, { members: 'usr_x' });
    expect([members.status, members.body.error.target]).toEqual([400, 'members']);
    expect((await u.api.get(`/v1/conversations/${c.id}/messages?limit=2&order=asc`)).body.items).toHaveLength(1);
    const anon = await t.anon.get('/v1/conversations');
    expect([anon.status, anon.body.error.code]).toEqual([401, 'unauthenticated']);
    const garbage = await t.anon.as('not-a-real-key').get('/v1/me');
    expect([garbage.status, garbage.body.error.code]).toEqual([401, 'unauthenticated']);
    const scheme = await fetch(`${t.url}/v1/me`, { headers: { authorization: `Basic ${t.adminKey}` } });
    expect(scheme.status).toBe(401);
  });

  it('returns no body with 204', async () => {
    const c = (await u.api.post('/v1/conversations', { kind: 'room', title: 'to delete' })).body.conversation;
    const res = await fetch(`${t.url}/v1/conversations/${c.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });
});
