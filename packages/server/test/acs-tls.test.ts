import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, describeConfig, loadConfig } from '@parley/server';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';
import { testCertificate, type TestCertificate } from './helpers/test-tls.js';
import { WsClient } from './helpers/ws-client.js';

const [impl] = await storeImpls();

// TLS is not ACS-specific (the native API gets HTTPS and WSS from the same settings), but the ACS chat
// SDK refuses anything else, which is why it arrived with the compatibility layer.
describe('TLS', () => {
  let t: TestServer;
  let cert: TestCertificate;
  beforeAll(async () => {
    cert = await testCertificate();
    t = await startTestServer(impl!, cert.env);
  });
  afterAll(() => t.close());

  it('serves the native REST API over HTTPS and says so in its URL', async () => {
    expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const alice = await t.user();
    const bob = await t.user();
    const created = await alice.api.post('/v1/conversations', { kind: 'direct', members: [bob.user.id] });
    expect(created.status).toBe(201);
    expect((await alice.api.get('/v1/me')).body.user.id).toBe(alice.user.id);
  });

  it('serves realtime over WSS on the same port', async () => {
    const alice = await t.user();
    const bob = await t.user();
    const ws = await WsClient.connect(t.url, bob.token, { ca: cert.ca });
    try {
      const conv = (await alice.api.post('/v1/conversations', { kind: 'direct', members: [bob.user.id] })).body.conversation;
      await alice.api.post(`/v1/conversations/${conv.id}/messages`, { content: 'over wss' });
      const frame = await ws.next((f) => f.type === 'event' && f.event.data.message?.content === 'over wss');
      expect(frame.event.conversationId).toBe(conv.id);
    } finally {
      ws.close();
    }
  });

  it('speaks no plain HTTP on that port, and is refused by clients that do not trust the certificate', async () => {
    await expect(fetch(`${t.url.replace('https:', 'http:')}/health`)).rejects.toThrow();
    await expect(fetch(`${t.url}/health`)).rejects.toThrow();
  });

  it('needs both the certificate and the key, and names unreadable files before starting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-tls-missing-'));
    await expect(createServer(loadConfig({ PARLEY_DATA_DIR: dir, PARLEY_TLS_CERT: cert.certFile }))).rejects.toThrow(
      'TLS needs both a certificate (PARLEY_TLS_CERT, --tls-cert) and its key (PARLEY_TLS_KEY, --tls-key)',
    );
    await expect(createServer(loadConfig({ PARLEY_DATA_DIR: dir }, { tlsKey: cert.keyFile }))).rejects.toThrow('TLS needs both');
    const config = loadConfig({ PARLEY_TLS_CERT: cert.certFile, PARLEY_TLS_KEY: cert.keyFile });
    expect(config).toMatchObject({ tlsCert: cert.certFile, tlsKey: cert.keyFile });
    expect(describeConfig(config).join('\n')).toContain(`tls            certificate ${cert.certFile}`);
    expect(describeConfig(loadConfig({})).join('\n')).toContain('tls            off (plain HTTP)');
    try {
      const missing = join(dir, 'nope.pem');
      await expect(createServer(loadConfig({ PARLEY_DATA_DIR: dir, PARLEY_TLS_CERT: missing, PARLEY_TLS_KEY: cert.keyFile }))).rejects.toThrow(
        `cannot read the TLS certificate ${missing}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generates the ACS access key into the data directory once, or takes it from PARLEY_ACS_ACCESS_KEY', async () => {
    const stored = readFileSync(join(t.server.config.dataDir, 'acs-access-key'), 'utf8').trim();
    expect(stored).toBe(t.server.secrets.acsAccessKey);
    expect(Buffer.from(stored, 'base64')).toHaveLength(32);
    const given = Buffer.from('a deployment-wide ACS key, 32 b').toString('base64');
    const s = await startTestServer(impl!, { PARLEY_ACS_ACCESS_KEY: given });
    try {
      expect(s.server.secrets.acsAccessKey).toBe(given);
      expect(describeConfig(s.server.config).join('\n')).toContain('acs access key set by configuration (PARLEY_ACS_ACCESS_KEY or --acs-access-key)');
      expect(JSON.stringify(s.server.config)).not.toContain(given);
    } finally {
      await s.close();
    }
  });
});
