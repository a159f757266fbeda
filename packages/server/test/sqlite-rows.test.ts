import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteDialect } from '../src/store/kysely/dialects/sqlite.js';
import type { StoreDialect } from '../src/store/kysely/dialects/store-dialect.js';

// The SQLite dialect reads rows as arrays and makes the objects itself (objectRows in sqlite.ts): every
// way a row comes back must give the object better-sqlite3 itself would have given.
interface Db {
  items: { id: number; name: string; note: string | null; size: number };
}

describe('SQLite rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-rows-'));
  let seam: StoreDialect;
  let db: Kysely<Db>;

  beforeAll(async () => {
    seam = createSqliteDialect(join(dir, 'rows.db'));
    db = new Kysely<Db>({ dialect: seam.kyselyDialect });
    await sql`create table items (id integer primary key, name text not null, note text, size integer not null)`.execute(db);
    await db
      .insertInto('items')
      .values([
        { id: 1, name: 'one', note: null, size: 10 },
        { id: 2, name: 'two', note: 'a note', size: 20 },
        { id: 3, name: 'three', note: '', size: 30 },
      ])
      .execute();
  });

  afterAll(async () => {
    await seam.beforeClose?.();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each selected row as an object of its columns, in select order, nulls and empty strings kept', async () => {
    const rows = await db.selectFrom('items').selectAll().orderBy('id').execute();
    expect(rows).toEqual([
      { id: 1, name: 'one', note: null, size: 10 },
      { id: 2, name: 'two', note: 'a note', size: 20 },
      { id: 3, name: 'three', note: '', size: 30 },
    ]);
    expect(Object.keys(rows[0]!)).toEqual(['id', 'name', 'note', 'size']);
    const aliased = await db.selectFrom('items').select(['size as s', 'name as n']).where('id', '=', 2).execute();
    expect(aliased).toEqual([{ s: 20, n: 'two' }]);
    expect(Object.keys(aliased[0]!)).toEqual(['s', 'n']);
  });

  it('keeps the last of two columns of one name, as better-sqlite3 does', async () => {
    const { rows } = await sql<{ v: string }>`select 'first' as v, 'second' as v`.execute(db);
    expect(rows).toEqual([{ v: 'second' }]);
  });

  it('gives rows of a RETURNING statement and of a streamed query as objects, and the statement can run again', async () => {
    const updated = await db.updateTable('items').set({ size: sql`size + 1` }).where('id', '=', 1).returning(['id', 'size']).execute();
    expect(updated).toEqual([{ id: 1, size: 11 }]);
    const streamed: unknown[] = [];
    for await (const row of db.selectFrom('items').select(['id', 'name']).orderBy('id').stream()) {
      streamed.push(row);
      if (streamed.length === 2) break;
    }
    expect(streamed).toEqual([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);
    // The stream stopped early: its statement must be free again for the same SQL.
    const again = await db.selectFrom('items').select(['id', 'name']).orderBy('id').execute();
    expect(again).toHaveLength(3);
  });

  it('gives objects on the direct path too, and nothing for statements that return no rows', () => {
    expect(seam.runDirect?.('select id, name from items where id = ?', [3])).toEqual([{ id: 3, name: 'three' }]);
    expect(seam.runDirect?.('update items set note = ? where id = ?', ['x', 3])).toEqual([]);
    expect(seam.runDirect?.('select note from items where id = ?', [3])).toEqual([{ note: 'x' }]);
  });
});
