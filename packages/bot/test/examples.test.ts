import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@parley/sdk';
import { startTestServer, until, type TestServer, type TestUser } from '../../sdk/test/helpers/test-server.js';
import { storeImpls } from '../../sdk/test/helpers/stores.js';

// The examples of examples/ run as their own Node processes, as docs/bots.md tells people to run them,
// in both delivery modes, against a real server.

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const [impl] = await storeImpls();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('examples/', () => {
  let t: TestServer;
  let alice: TestUser;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    // The examples import the built package, as an installed one would be.
    await promisify(execFile)('npx', ['tsc', '-b', 'packages/bot'], { cwd: root });
    t = await startTestServer(impl!);
    alice = await t.user({ displayName: 'Alice' });
  }, 180_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await t.close();
  });

  /** Starts an example with a fresh bot account; resolves once it says it is running. */
  async function run(example: string, webhook: boolean) {
    const { user, apiKey } = await t.admin.createUser({ kind: 'bot', handle: `ex${Math.random().toString(36).slice(2, 9)}` });
    const env: Record<string, string> = { ...process.env, PARLEY_URL: t.url, PARLEY_BOT_KEY: apiKey! } as Record<string, string>;
    if (webhook) env['PARLEY_WEBHOOK_PORT'] = String(await freePort());
    const child = spawn(process.execPath, [join(root, 'examples', example)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await until(() => output.includes(webhook ? 'webhook mode' : 'WebSocket mode') || child.exitCode !== null, `${example} to start`, 30_000);
    expect(child.exitCode, output).toBeNull();
    const stop = async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      expect(child.exitCode, output).toBe(0);
    };
    return { botId: user.id, stop };
  }

  const answer = async (conversationId: string, botId: string, match: (m: Message) => boolean) => {
    let found: Message | undefined;
    await until(async () => {
      for await (const m of alice.client.conversation(conversationId).listMessages({ order: 'desc', maxItems: 20 })) {
        if (m.senderId === botId && match(m)) found = m;
      }
      return found !== undefined;
    }, 'the bot to answer');
    return found!;
  };

  for (const webhook of [false, true]) {
    const mode = webhook ? 'webhook' : 'WebSocket';

    it(`runs the echo bot in ${mode} mode`, async () => {
      const { botId, stop } = await run('echo-bot.mjs', webhook);
      const room = (await alice.client.createRoom({ title: `Echo ${mode}`, members: [botId] })).conversation;
      await answer(room.id, botId, (m) => m.content.startsWith('Hello!'));
      const conv = alice.client.conversation(room.id);
      await conv.sendMessage('/echo  round trip ');
      await answer(room.id, botId, (m) => m.content === 'round trip');
      await conv.sendMessage('/help');
      expect((await answer(room.id, botId, (m) => m.content.startsWith('Commands:'))).content).toContain('/echo <text> — Say it back');
      await stop();
    });

    it(`runs the data bot in ${mode} mode`, async () => {
      const { botId, stop } = await run('data-bot.mjs', webhook);
      const room = (await alice.client.createRoom({ title: `Data ${mode}`, members: [botId] })).conversation;
      const conv = alice.client.conversation(room.id);
      await conv.sendMessage('first words');
      await conv.sendMessage('/stats');
      const stats = await answer(room.id, botId, (m) => m.content.includes('members:'));
      expect(stats.content).toContain(`Data ${mode} (room)`);
      expect(stats.content).toContain('members: 2');
      await conv.sendMessage(`/whois @${alice.user.handle}`);
      expect((await answer(room.id, botId, (m) => m.content.startsWith('@'))).content).toBe(`@${alice.user.handle} is Alice (human)`);
      await conv.sendMessage('/whois nobody-at-all');
      await answer(room.id, botId, (m) => m.content === 'Nobody is called @nobody-at-all.');
      await stop();
    });
  }
});
