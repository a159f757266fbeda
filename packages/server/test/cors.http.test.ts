import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@parley/server';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const [impl] = await storeImpls();
const APP = 'https://app.example.test';

const preflight = (url: string, origin: string) =>
  fetch(`${url}/v1/conversations`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

describe('CORS', () => {
  describe('with an allow-list', () => {
    let t: TestServer;
    let alice: TestUser;
    beforeAll(async () => {
      t = await startTestServer(impl!, { PARLEY_CORS_ORIGINS: `${APP}, http://localhost:5173` });
      alice = await t.user();
    });
    afterAll(() => t.close());

    it('answers preflights from allowed origins before any credential check', async () => {
      const res = await preflight(t.url, APP);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(res.headers.get('access-control-allow-methods')).toContain('PATCH');
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(res.headers.get('access-control-allow-headers')).toContain('repeatability-request-id');
      expect(res.headers.get('vary')).toContain('origin');
    });

    it('marks answers to allowed origins, errors included, and exposes the headers clients read', async () => {
      const ok = await fetch(`${t.url}/v1/me`, { headers: { origin: 'http://localhost:5173', authorization: `Bearer ${alice.token}` } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(ok.headers.get('access-control-expose-headers')).toContain('x-request-id');
      expect(ok.headers.get('access-control-expose-headers')).toContain('retry-after');
      const denied = await fetch(`${t.url}/v1/me`, { headers: { origin: APP } });
      expect(denied.status).toBe(401);
      expect(denied.headers.get('access-control-allow-origin')).toBe(APP);
      expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    });

    it('gives other origins nothing', async () => {
      const res = await preflight(t.url, 'https://evil.example.test');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.status).toBe(404);
      const get = await fetch(`${t.url}/health`, { headers: { origin: 'https://evil.example.test' } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  it('allows every origin with *', async () => {
    const t = await startTestServer(impl!, { PARLEY_CORS_ORIGINS: '*' });
    try {
      const res = await preflight(t.url, 'https://anything.example.test');
      expect([res.status, res.headers.get('access-control-allow-origin')]).toEqual([204, '*']);
      expect((await fetch(`${t.url}/health`, { headers: { origin: 'https://x.test' } })).headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await t.close();
    }
  });

  it('is off by default', async () => {
    const t = await startTestServer(impl!);
    try {
      expect((await preflight(t.url, APP)).headers.get('access-control-allow-origin')).toBeNull();
      expect((await fetch(`${t.url}/health`, { headers: { origin: APP } })).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await t.close();
    }
  });

  it('refuses malformed origins at start, naming the setting', () => {
    for (const bad of ['app.example.test', 'https://app.example.test/path', 'ftp://files.example.test', 'https://']) {
      expect(() => loadConfig({ PARLEY_CORS_ORIGINS: bad }), bad).toThrow(/PARLEY_CORS_ORIGINS/);
    }
    expect(loadConfig({ PARLEY_CORS_ORIGINS: 'https://a.test, http://localhost:5173/' }).corsOrigins).toEqual(['https://a.test', 'http://localhost:5173']);
  });
});
