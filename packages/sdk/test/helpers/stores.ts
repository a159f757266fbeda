import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '@parley/server';

export type StoreName = 'sqlite' | 'postgres';

/** A store the SDK suites run against: a fresh SQLite file, or a fresh PostgreSQL schema. */
export interface StoreImpl {
  name: StoreName;
  open(): Promise<Store>;
}

const PG_URL = process.env['PARLEY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const isCI = process.env['CI'] === 'true';

const sqlite: StoreImpl = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'parley-sdk-store-'));
    const store = await openStore({ url: join(dir, 'test.db') });
    const close = store.close.bind(store);
    return Object.assign(store, {
      close: async () => {
        await close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
};

const postgres: StoreImpl = {
  name: 'postgres',
  open: () => openStore({ url: PG_URL, schema: `parley_sdk_${randomBytes(6).toString('hex')}`, dropSchemaOnClose: true }),
};

async function postgresAnswers(): Promise<boolean> {
  try {
    const store = await postgres.open();
    await store.close();
    return true;
  } catch {
    return false;
  }
}

let cached: Promise<StoreImpl[]> | undefined;

/**
 * The stores this run tests (PARLEY_TEST_STORES=sqlite,postgres narrows it). PostgreSQL that does not
 * answer is left out with a loud notice, except with CI=true, where that fails the run.
 */
export function storeImpls(): Promise<StoreImpl[]> {
  cached ??= (async () => {
    const wanted = (process.env['PARLEY_TEST_STORES'] ?? 'sqlite,postgres').split(',').map((s) => s.trim());
    const impls: StoreImpl[] = [];
    if (wanted.includes('sqlite')) impls.push(sqlite);
    if (wanted.includes('postgres')) {
      if (await postgresAnswers()) impls.push(postgres);
      else if (isCI) throw new Error(`CI=true but PostgreSQL does not answer at ${PG_URL}: failing, not skipping`);
      else console.warn(`\n!! PostgreSQL does not answer at ${PG_URL}: the SDK's PostgreSQL suites are SKIPPED (CI=true makes this a failure).\n`);
    }
    return impls;
  })();
  return cached;
}
