import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '@parley/server';

export type StoreName = 'sqlite' | 'postgres';

export const PG_URL = process.env['PARLEY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const isCI = process.env['CI'] === 'true';

/** A store under test: a fresh SQLite file, or a fresh PostgreSQL schema dropped on close. */
export interface StoreImpl {
  name: StoreName;
  open(): Promise<Store>;
}

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const sqlite: StoreImpl = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
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
  open: () =>
    openStore({ url: PG_URL, schema: `parley_test_${randomBytes(6).toString('hex')}`, dropSchemaOnClose: true }),
};

let cached: Promise<StoreImpl[]> | undefined;

/**
 * The stores this run tests: every implementation, narrowed by PARLEY_TEST_STORES=sqlite,postgres.
 * PostgreSQL that does not answer is left out with a loud notice, except with CI=true, where it fails.
 */
export function storeImpls(): Promise<StoreImpl[]> {
  cached ??= (async () => {
    const wanted = (process.env['PARLEY_TEST_STORES'] ?? 'sqlite,postgres').split(',').map((s) => s.trim());
    const impls: StoreImpl[] = [];
    if (wanted.includes('sqlite')) impls.push(sqlite);
    if (wanted.includes('postgres')) {
      if (await postgresAnswers()) impls.push(postgres);
      else if (isCI) throw new Error(`CI=true but PostgreSQL does not answer at ${PG_URL}: failing, not skipping`);
      else {
        console.warn(
          `\n${'!'.repeat(78)}\n!! PostgreSQL does not answer at ${PG_URL}: PostgreSQL suites are SKIPPED.\n!! Start it (see README) or set CI=true to make this a failure.\n${'!'.repeat(78)}\n`,
        );
      }
    }
    return impls;
  })();
  return cached;
}
