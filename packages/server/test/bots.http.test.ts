import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './helpers/api-checks.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const STORES = await storeImpls();
const uniq = (prefix: string) => `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

describe.each(STORES)('$name: bot profiles', (impl) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(impl);
  });
  afterAll(() => t.close());

  it('creates a bot with the commands it offers; users read them', async () => {
    const commands = [
      { command: '/help', description: 'What I can do' },
      { command: '/weather', description: 'The forecast', usage: '<city> [days]' },
    ];
    const created = await t.admin.post('/v1/users', { kind: 'bot', handle: uniq('wx'), description: 'Weather bot', commands });
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ kind: 'bot', description: 'Weather bot', commands });
    const reader = await t.user();
    expect((await reader.api.get(`/v1/users/${created.body.user.id}`)).body.commands).toEqual(commands);
    expect(reader.user.commands).toEqual([]);
  });

  it('lets a bot change its own profile and commands, and nothing else', async () => {
    const bot = await t.user({ kind: 'bot' });
    const other = await t.user({ kind: 'bot' });
    const res = await bot.api.patch('/v1/users/me', { displayName: 'Echo', description: 'Repeats you', commands: [{ command: '/echo', description: 'Say it back' }] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ displayName: 'Echo', description: 'Repeats you', commands: [{ command: '/echo', description: 'Say it back' }] });
    expect((await bot.api.patch('/v1/users/me', { commands: [] })).body.commands).toEqual([]);
    expectError(await bot.api.patch(`/v1/users/${other.user.id}`, { commands: [] }), 403, 'forbidden', 'userId');
    expectError(await bot.api.patch('/v1/users/me', { admin: true }), 403, 'forbidden', 'admin');
    // A self-edit is no admin action: the audit log stays clean of it.
    const audit = await t.admin.get(`/v1/admin/audit-log?targetId=${bot.user.id}&action=user.updated`);
    expect(audit.body.items).toEqual([]);
  });

  it('rotates an API key: the new one works, the old one stops at once', async () => {
    const created = await t.admin.post('/v1/users', { kind: 'bot', handle: uniq('rot') });
    const oldKey: string = created.body.apiKey;
    const keys = await t.anon.as(oldKey).get('/v1/users/me/api-keys');
    const keyId = keys.body.items[0].id;
    const rotated = await t.anon.as(oldKey).post(`/v1/users/me/api-keys/${keyId}/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.body.apiKey).toMatchObject({ name: keys.body.items[0].name });
    expect(rotated.body.apiKey.id).not.toBe(keyId);
    expectError(await t.anon.as(oldKey).get('/v1/me'), 401, 'unauthenticated');
    expect((await t.anon.as(rotated.body.key).get('/v1/me')).body.user.id).toBe(created.body.user.id);
    const other = await t.user({ kind: 'bot' });
    expectError(await other.api.post(`/v1/users/${created.body.user.id}/api-keys/${rotated.body.apiKey.id}/rotate`), 403, 'forbidden');
    expectError(await t.anon.as(rotated.body.key).post(`/v1/users/me/api-keys/${keyId}/rotate`), 404, 'not_found', 'keyId');
    const audit = await t.admin.get(`/v1/admin/audit-log?action=api_key.rotated&targetId=${keyId}`);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0].details).toMatchObject({ newKeyId: rotated.body.apiKey.id });
  });

  it('refuses commands for humans, duplicates and malformed ones with the standard error body', async () => {
    const bot = await t.user({ kind: 'bot' });
    const human = await t.user();
    expectError(await human.api.patch('/v1/users/me', { commands: [{ command: '/x', description: '' }] }), 400, 'bad_request', 'commands');
    expectError(await t.admin.post('/v1/users', { kind: 'human', handle: uniq('h'), commands: [] }), 400, 'bad_request', 'commands');
    const twice = [{ command: '/a', description: '1' }, { command: '/a', description: '2' }];
    expectError(await bot.api.patch('/v1/users/me', { commands: twice }), 400, 'bad_request', 'commands[1].command');
    for (const command of ['help', '/', '/Has Space', '/UPPER', `/${'x'.repeat(40)}`]) {
      const res = await bot.api.patch('/v1/users/me', { commands: [{ command, description: 'd' }] });
      expect([res.status, res.body.error.code], command).toEqual([400, 'bad_request']);
    }
    const tooMany = Array.from({ length: 101 }, (_, i) => ({ command: `/c${i}`, description: 'd' }));
    expect((await bot.api.patch('/v1/users/me', { commands: tooMany })).status).toBe(400);
    expect((await bot.api.patch('/v1/users/me', { commands: [{ command: '/ok', description: 'd', extra: 1 }] })).status).toBe(400);
  });
});
