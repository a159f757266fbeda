import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '@parley/server';
import { parseQuery, type ConversationRecord, type UserRecord } from '../src/domain/index.js';
import { SearchBacklog } from '../src/store/kysely/search-backlog.js';
import { aConversation, aMessage, aUser } from './contracts/fixtures.js';

// SQLite indexes messages for search after their sends commit (store/kysely/search-backlog.ts). These
// tests hold it to what the synchronous index promised: a search finds every message sent before it, as
// it stands now, and nothing a crash interrupts is left out of the index.

/** The backlog's mark and the index's entries, read through a connection of the test's own. */
function indexState(path: string): { mark: number; maxRowid: number; entries: string[] } {
  const db = new Database(path, { readonly: true });
  try {
    const mark = (db.prepare('SELECT indexed_rowid AS mark FROM search_backlog WHERE id = 1').get() as { mark: number }).mark;
    const maxRowid = (db.prepare('SELECT coalesce(max(rowid), 0) AS n FROM messages').get() as { n: number }).n;
    const entries = (db.prepare('SELECT message_id FROM message_search ORDER BY message_id').all() as { message_id: string }[]).map((r) => r.message_id);
    return { mark, maxRowid, entries };
  } finally {
    db.close();
  }
}

describe('sqlite: search backlog', () => {
  let dir: string;
  let path: string;
  let store: Store;
  let user: UserRecord;
  let room: ConversationRecord;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-backlog-'));
    path = join(dir, 'parley.db');
    store = await openStore({ url: path });
    user = aUser();
    room = aConversation(user.id);
    await store.users.insert(user);
    await store.conversations.insert(room);
    await store.members.insert({ conversationId: room.id, userId: user.id, role: 'owner', historyFrom: null, joinedAt: room.createdAt });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const search = (q: string, s: Store = store) =>
    s.search.searchMessages({ text: parseQuery(q), viewer: user.id, sort: 'oldest', page: { limit: 100 } }).then((hits) => hits.map((h) => h.message.id));

  it('finds a message as soon as its send has committed, and moves the mark past it', async () => {
    // A millisecond apart: the oldest-first order of two messages of one millisecond is that of their random ids.
    const at = Date.now();
    const sent = [aMessage(room, 1, user.id, { content: 'walrus one', createdAt: at }), aMessage(room, 2, user.id, { content: 'walrus two', createdAt: at + 1 })];
    for (const m of sent) await store.messages.append(m);
    expect(await search('walrus')).toEqual(sent.map((m) => m.id));
    const state = indexState(path);
    expect(state.mark).toBe(state.maxRowid);
    expect(state.entries).toEqual(sent.map((m) => m.id).sort());
  });

  it('indexes a message as it stands when the backlog reaches it: edited, deleted, or without words', async () => {
    const edited = aMessage(room, 1, user.id, { content: 'original wording' });
    const deleted = aMessage(room, 2, user.id, { content: 'original regret' });
    const system = aMessage(room, 3, user.id, { type: 'system', content: 'original system line' });
    for (const m of [edited, deleted, system]) await store.messages.append(m);
    await store.messages.update(edited.id, { content: 'revised wording', version: 2, editedAt: Date.now() });
    await store.messages.update(deleted.id, { content: '', deletedAt: Date.now() });

    expect(await search('original')).toEqual([]);
    expect(await search('revised')).toEqual([edited.id]);
    expect(indexState(path).entries).toEqual([edited.id]);
  });

  it('keeps the full-text index in step with its rows: new entries a chunk at a time, changed and removed ones by trigger', async () => {
    // Sent in one go, so that the backlog indexes them in one chunk; some are changed before it gets there,
    // some after.
    // A millisecond apart, so that oldest-first is send order (one millisecond's messages sort by their random ids).
    const at = Date.now();
    const message = (seq: number, content: string) => aMessage(room, seq, user.id, { content, createdAt: at + seq });
    const plain = Array.from({ length: 30 }, (_, i) => message(i + 1, `capybara number${i}`));
    const editedEarly = message(31, 'tapir before');
    const editedLate = message(32, 'tapir early');
    const emptiedLate = message(33, 'tapir gone');
    const wordless = message(34, '...');
    for (const m of [...plain, editedEarly, editedLate, emptiedLate, wordless]) await store.messages.append(m);
    await store.messages.update(editedEarly.id, { content: 'tapir after', version: 2, editedAt: Date.now() });
    expect(await search('capybara')).toHaveLength(30);
    await store.messages.update(editedLate.id, { content: 'tapir later', version: 2, editedAt: Date.now() });
    await store.messages.update(emptiedLate.id, { content: '', deletedAt: Date.now() });

    expect(await search('tapir')).toEqual([editedEarly.id, editedLate.id]);
    expect(await search('before')).toEqual([]);
    expect(await search('early')).toEqual([]);
    expect(await search('number7')).toEqual([plain[7]!.id]);
    const db = new Database(path);
    try {
      // FTS5 compares its index with the rows of message_search, entry by entry (rank 1: external content).
      expect(() => db.prepare("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
      const ftsRows = (db.prepare('SELECT count(*) AS n FROM message_fts WHERE message_fts MATCH ?').get('capybara OR tapir') as { n: number }).n;
      expect(ftsRows).toBe(32);
    } finally {
      db.close();
    }
  });

  it('lets a search inside a transaction find what that transaction sent', async () => {
    const m = aMessage(room, 1, user.id, { content: 'narwhal inside' });
    const found = await store.transaction(async (tx) => {
      await tx.messages.append(m);
      return search('narwhal', tx);
    });
    expect(found).toEqual([m.id]);
  });

  it('forgets nothing a rolled-back send wrote: there is nothing to index', async () => {
    const kept = aMessage(room, 1, user.id, { content: 'okapi kept' });
    const lost = aMessage(room, 2, user.id, { content: 'okapi lost' });
    await store.messages.append(kept);
    await expect(
      store.transaction(async (tx) => {
        await tx.messages.append(lost);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await search('okapi')).toEqual([kept.id]);
  });

  it('indexes, on the next start, messages whose process was killed before the backlog reached them', async () => {
    await store.close();
    const messages = Array.from({ length: 25 }, (_, i) => aMessage(room, i + 1, user.id, { content: `quokka ${i}` }));
    // A process that writes the messages, says so and then blocks its event loop, so its backlog can never
    // run; it is then killed outright.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { openStore } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
         const store = await openStore({ url: ${JSON.stringify(path)} });
         for (const m of ${JSON.stringify(messages)}) await store.messages.append(m);
         process.stdout.write('written\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('written')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before writing`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const before = indexState(path);
    expect(before.mark).toBeLessThan(before.maxRowid);
    expect(before.entries).toEqual([]);

    store = await openStore({ url: path });
    const after = indexState(path);
    expect(after.mark).toBe(after.maxRowid);
    expect(after.entries).toEqual(messages.map((m) => m.id).sort());
    expect((await search('quokka')).sort()).toEqual(messages.map((m) => m.id).sort());
  });
});

describe('search backlog scheduling', () => {
  /** A backlog over a counter: `index` reports how many it indexed, as indexBacklog does. */
  function counting(results: number[] = []) {
    const calls: number[] = [];
    let fail: Error | undefined;
    const backlog = new SearchBacklog({
      index: () => {
        calls.push(calls.length);
        if (fail) return Promise.reject(fail);
        return Promise.resolve(results.shift() ?? 0);
      },
      delayMs: 60_000,
      maxPending: 3,
    });
    return { backlog, calls, failWith: (err: Error | undefined) => (fail = err) };
  }

  it('catches up at once after a start (a crash may have left a backlog), then only after sends', async () => {
    const { backlog, calls } = counting();
    await backlog.catchUp();
    expect(calls).toHaveLength(1);
    await backlog.catchUp();
    expect(calls).toHaveLength(1);
    backlog.noteAppended();
    expect(calls).toHaveLength(1);
    await backlog.catchUp();
    expect(calls).toHaveLength(2);
    await backlog.close();
  });

  it('indexes in chunks until a chunk comes back short', async () => {
    const { backlog, calls } = counting([1000, 1000, 7]);
    await backlog.catchUp();
    expect(calls).toHaveLength(3);
    await backlog.close();
  });

  it('starts at once when enough sends are waiting, without waiting for the delay', async () => {
    const { backlog, calls } = counting();
    await backlog.catchUp();
    for (let i = 0; i < 3; i++) backlog.noteAppended();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(2);
    await backlog.close();
  });

  it('keeps what failed pending, and a search sees the failure', async () => {
    const { backlog, calls, failWith } = counting();
    await backlog.catchUp();
    backlog.noteAppended();
    failWith(new Error('disk full'));
    await expect(backlog.catchUp()).rejects.toThrow('disk full');
    failWith(undefined);
    await backlog.catchUp();
    expect(calls).toHaveLength(3);
    await backlog.close();
  });

  it('waits for a catch-up already running, then looks again', async () => {
    let release: (() => void) | undefined;
    const calls: string[] = [];
    const backlog = new SearchBacklog({
      index: () => {
        calls.push('index');
        return calls.length === 1 ? new Promise<number>((resolve) => (release = () => resolve(0))) : Promise.resolve(0);
      },
      delayMs: 60_000,
    });
    const first = backlog.catchUp();
    backlog.noteAppended();
    const second = backlog.catchUp();
    release?.();
    await Promise.all([first, second]);
    expect(calls).toEqual(['index', 'index']);
    await backlog.close();
  });
});
