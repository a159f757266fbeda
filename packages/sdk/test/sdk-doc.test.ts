import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sdk from '@parley/sdk';
import { runExample } from './helpers/run-example.js';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = readFileSync(join(root, 'docs/sdk.md'), 'utf8');
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const [impl] = await storeImpls();

// docs/sdk.md is executable documentation: every ts block runs as written against a real server.
describe(`${impl!.name}: docs/sdk.md`, () => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    t = await startTestServer(impl!);
    [alice, bob] = await Promise.all([t.user(), t.user()]);
  });
  afterAll(() => t.close());

  it('has examples for every part of the SDK', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(14);
  });

  for (const [i, block] of blocks.entries()) {
    it(`example ${i + 1}: ${block.split('\n')[0]}`, async () => {
      const shown: unknown[] = [];
      await runExample(block, {
        ...sdk,
        baseUrl: t.url,
        token: alice.token,
        client: t.client({ token: alice.token }),
        adminKey: t.adminKey,
        admin: t.admin,
        bob: bob.user.id,
        show: (...values: unknown[]) => shown.push(values),
      });
      expect(shown.length).toBeGreaterThan(0);
    });
  }
});
