import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '@parley/server';
import { startCheckpointer, type Checkpointer } from '../src/store/kysely/dialects/sqlite-checkpointer.js';
import { aConversation, aMessage, aUser } from './contracts/fixtures.js';

// SQLite's checkpoints run on a thread of their own (store/kysely/dialects/sqlite-checkpointer.ts). These
// tests hold it to what SQLite's automatic checkpoint promised: the WAL is copied into the database and
// stays bounded under writes that never pause, and nothing written is lost on the way.

const walBytes = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

describe('sqlite: checkpoints beside the event loop', () => {
  let dir: string;
  let path: string;
  let db: Database.Database;
  let checkpointer: Checkpointer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-checkpoint-'));
    path = join(dir, 'parley.db');
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL, body TEXT NOT NULL)');
    db.exec('CREATE INDEX t_k ON t (k)');
  });

  afterEach(async () => {
    await checkpointer?.stop();
    checkpointer = undefined;
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the WAL into the database and keeps it bounded while writes never pause', async () => {
    const maxWalBytes = 256 * 1024;
    db.pragma(`journal_size_limit = ${maxWalBytes}`);
    const errors: Error[] = [];
    checkpointer = startCheckpointer({ path, frames: 16, maxWalBytes, intervalMs: 1, onError: (err) => errors.push(err) });
    const insert = db.prepare('INSERT INTO t (k, body) VALUES (?, ?)');
    const begin = db.prepare('BEGIN IMMEDIATE');
    const commit = db.prepare('COMMIT');
    let written = 0;
    let largestWal = 0;
    // Writes in every turn of the event loop, as a loaded server does, until the checkpointer has had to
    // start the WAL over a few times (a WAL that only grew would never see that).
    while ((await checkpointer.stats()).restarts < 3) {
      begin.run();
      for (let i = 0; i < 20; i += 1, written += 1) insert.run(`k${(written * 7919) % 1000}`, `row ${written} ${'x'.repeat(200)}`);
      commit.run();
      largestWal = Math.max(largestWal, walBytes(path));
      await turn();
    }
    const stats = await checkpointer.stats();
    expect(errors).toEqual([]);
    expect(stats.passive).toBeGreaterThan(0);
    // The writer starts the WAL over and cuts the file back to the limit; between checks it may run past
    // the limit by what the last checkpoint interval wrote, never unboundedly.
    expect(largestWal).toBeLessThan(4 * maxWalBytes);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: written });
    // What was checkpointed is in the database file itself: a copy of the file alone, without its WAL,
    // taken while the writer still has it open (so no closing checkpoint has run), holds rows.
    await checkpointer.stop();
    checkpointer = undefined;
    const copy = join(dir, 'copy.db');
    copyFileSync(path, copy);
    const alone = new Database(copy);
    try {
      expect((alone.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      alone.close();
    }
  });

  it('leaves a quiet WAL alone until enough of it waits', async () => {
    checkpointer = startCheckpointer({ path, frames: 1_000_000, maxWalBytes: 1 << 30, intervalMs: 1, onError: () => undefined });
    for (let i = 0; i < 50; i += 1) {
      db.prepare('INSERT INTO t (k, body) VALUES (?, ?)').run(`k${i}`, 'row');
      await turn();
    }
    expect(await checkpointer.stats()).toEqual({ passive: 0, restarts: 0 });
  });

  it('reports a database without a wal-index to read, rather than never checkpointing it', async () => {
    const other = join(dir, 'rollback.db');
    const plain = new Database(other);
    plain.pragma('journal_mode = DELETE');
    plain.exec('CREATE TABLE t (x)');
    const errors: Error[] = [];
    checkpointer = startCheckpointer({ path: other, frames: 1, maxWalBytes: 1, intervalMs: 1, onError: (err) => errors.push(err) });
    try {
      await expect.poll(() => errors.length).toBe(1);
      expect(errors[0]!.message).toMatch(/shm/);
    } finally {
      plain.close();
    }
  });

  it('reports a checkpointer that cannot open the database, so that the store checkpoints by itself again', async () => {
    const errors: Error[] = [];
    checkpointer = startCheckpointer({ path: join(dir, 'missing.db'), frames: 1, maxWalBytes: 1, intervalMs: 1, onError: (err) => errors.push(err) });
    await expect(checkpointer.stats()).rejects.toThrow();
    expect(errors).toHaveLength(1);
  });
});

describe('sqlite store: its checkpointer', () => {
  it('stops with the store, whose close copies the WAL into the database and removes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-checkpoint-store-'));
    const path = join(dir, 'parley.db');
    try {
      const store = await openStore({ url: path });
      const user = aUser();
      const room = aConversation(user.id);
      await store.users.insert(user);
      await store.conversations.insert(room);
      for (let seq = 1; seq <= 200; seq += 1) await store.messages.append(aMessage(room, seq, user.id));
      await store.close();
      expect(existsSync(`${path}-wal`)).toBe(false);
      const reopened = await openStore({ url: path });
      try {
        expect(await reopened.messages.listPage(room.id, { viewer: { userId: user.id, historyFrom: null }, order: 'desc', limit: 500 })).toHaveLength(200);
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets a process that has nothing else to do finish closing the store and go on after it', async () => {
    // The checkpointer's thread does not keep a process alive; while the store stops it, something must,
    // or a process whose last work is closing its store exits in the middle of the close, silently.
    const dir = mkdtempSync(join(tmpdir(), 'parley-checkpoint-exit-'));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--input-type=module',
        '-e',
        `const { openStore } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
         const store = await openStore({ url: ${JSON.stringify(join(dir, 'parley.db'))} });
         await store.close();
         process.stdout.write('closed\\n');`,
      ]);
      expect(stdout).toBe('closed\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
