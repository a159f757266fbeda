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
