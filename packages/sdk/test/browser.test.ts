import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Sdk from '@parley/sdk';
import { FaultProxy } from './helpers/fault-proxy.js';
import { startTestServer, until, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const CHROMIUM = process.env['PARLEY_TEST_CHROMIUM'] ?? '/usr/bin/chromium';
const isCI = process.env['CI'] === 'true';
const here = dirname(fileURLToPath(import.meta.url));
const [impl] = await storeImpls();

/** Bundles the SDK for browsers, as an application's bundler would. */
async function bundleSdk(): Promise<string> {
  const result = await build({
    stdin: { contents: "export * from '@parley/sdk';", resolveDir: here, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['source'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

if (!existsSync(CHROMIUM)) {
  if (isCI) throw new Error(`CI=true but Chromium is missing at ${CHROMIUM}: failing, not skipping`);
  console.warn(`\n!! Chromium is missing at ${CHROMIUM}: the SDK browser smoke test is SKIPPED (CI=true makes this a failure).\n`);
} else {
  describe(`${impl!.name}: the SDK in a browser`, () => {
    let t: TestServer;
    let proxy: FaultProxy;
    let browser: Browser;
    let alice: TestUser;
    let bob: TestUser;
    let bundle: string;
    beforeAll(async () => {
      t = await startTestServer(impl!);
      // The server sends no CORS headers: the page comes from the API's own origin, through the proxy.
      proxy = await FaultProxy.start(t.url);
      [alice, bob] = await Promise.all([t.user(), t.user()]);
      bundle = await bundleSdk();
      proxy.serve('/__sdk/sdk.js', 'text/javascript; charset=utf-8', bundle);
      proxy.serve(
        '/__sdk/index.html',
        'text/html; charset=utf-8',
        "<!doctype html><title>Parley SDK</title><script type=module>import * as sdk from '/__sdk/sdk.js'; window.sdk = sdk;</script>",
      );
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await proxy?.close();
      await t?.close();
    });

    it('the bundle has no Node-only imports', () => {
      expect(bundle).not.toMatch(/from\s*["'](node:|ws["'])/);
      expect(bundle).not.toMatch(/require\(["'](node:|ws["'])/);
      expect(bundle).toContain('ParleyClient');
    });

    it('runs REST, paging, realtime with reconnect and resume, and the live view in Chromium', async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${proxy.url}/__sdk/index.html`);
      await page.waitForFunction(() => 'sdk' in globalThis);
      const { conversation } = await alice.client.createRoom({ title: 'Browser', members: [bob.user.id] });
      const conv = alice.client.conversation(conversation.id);
      await conv.sendMessage('before the page');

      // Step 1 in the page: REST, paging, a realtime subscription and a live view.
      const first = await page.evaluate(
        async ({ token, conversationId }) => {
          const sdk = (globalThis as unknown as { sdk: typeof Sdk }).sdk;
          const client = new sdk.ParleyClient({ baseUrl: (globalThis as unknown as { location: { origin: string } }).location.origin, token, realtime: { reconnect: { initialDelayMs: 20 } } });
          const w = globalThis as unknown as Record<string, unknown>;
          w['client'] = client;
          const received: string[] = [];
          w['received'] = received;
          client.on('message.created', (e: { conversationId: string; data: { message: { type: string; content: string } } }) => {
            if (e.conversationId === conversationId && e.data.message.type === 'text') received.push(e.data.message.content);
          });
          await client.connect();
          const me = await client.getMe();
          const sent = await client.conversation(conversationId).sendMessage('from the browser');
          const pages: number[] = [];
          for await (const p of client.conversation(conversationId).listMessages({ order: 'asc' }).byPage({ maxPageSize: 1 })) pages.push(p.items.length);
          const live = await client.conversation(conversationId).live();
          w['live'] = live;
          let error: unknown;
          try {
            await client.getConversation('cnv_missing');
          } catch (err) {
            error = { name: (err as Error).name, code: (err as { code: string }).code, ok: sdk.isParleyApiError(err) };
          }
          return { me: me.user.id, sent: sent.content, pages, liveCount: live.messages.length, state: client.connectionState, error };
        },
        { token: bob.token, conversationId: conversation.id },
      );
      expect(first.me).toBe(bob.user.id);
      expect(first.sent).toBe('from the browser');
      expect(first.pages.every((n: number) => n <= 1)).toBe(true);
      expect(first.pages.reduce((a: number, b: number) => a + b, 0)).toBeGreaterThanOrEqual(4);
      expect(first.state).toBe('connected');
      expect(first.error).toEqual({ name: 'ParleyApiError', code: 'not_found', ok: true });

      // Step 2: messages sent from elsewhere arrive live; the socket is cut mid-stream and resumed.
      await conv.sendMessage('live 1');
      await until(async () => (await page.evaluate(() => ((globalThis as unknown as { received: string[] }).received).length)) >= 2, 'live 1 in the page');
      expect(proxy.killWebSockets()).toBeGreaterThanOrEqual(1);
      await conv.sendMessage('while cut');
      await conv.sendMessage('live 2');
      await until(async () => (await page.evaluate(() => ((globalThis as unknown as { received: string[] }).received).length)) >= 4, 'the resumed messages');
      const after = await page.evaluate(() => {
        const w = globalThis as unknown as { received: string[]; live: { messages: { content: string; type: string }[] } };
        return { received: w.received, live: w.live.messages.filter((m) => m.type === 'text').map((m) => m.content) };
      });
      expect(after.received).toEqual(['from the browser', 'live 1', 'while cut', 'live 2']);
      await until(async () => (await page.evaluate(() => (globalThis as unknown as { live: { messages: unknown[] } }).live.messages.length)) >= first.liveCount + 3, 'the live view');
      const live = await page.evaluate(() =>
        (globalThis as unknown as { live: { messages: { content: string; type: string }[] } }).live.messages.filter((m) => m.type === 'text').map((m) => m.content),
      );
      expect(live).toEqual(['before the page', 'from the browser', 'live 1', 'while cut', 'live 2']);
      await page.evaluate(() => (globalThis as unknown as { client: { close(): Promise<void> } }).client.close());
      expect(errors).toEqual([]);
    }, 60_000);
  });
}
