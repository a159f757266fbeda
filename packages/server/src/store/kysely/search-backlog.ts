import { sql, type Kysely } from 'kysely';
import type { MessageType } from '@parley/protocol';
import type { AttachmentRecord, MessageId } from '../../domain/index.js';
import type { Database } from './schema.js';
import { indexTokens, writeMessageIndexes } from './search-index.js';

/** Messages indexed per transaction when catching up. */
const CHUNK = 1000;

/**
 * Indexes, in the caller's transaction, up to `limit` messages past the backlog's mark (in rowid
 * order, as they stand now: an edit or delete since the send counts) and moves the mark past them.
 * Returns how many it indexed. Running it twice indexes nothing twice, and a rollback undoes the mark
 * with the index rows, so it is safe in any transaction, even one run again.
 */
export async function indexBacklog(db: Kysely<Database>, limit = CHUNK): Promise<number> {
  const mark = await db.selectFrom('search_backlog').select('indexed_rowid').where('id', '=', 1).executeTakeFirst();
  if (!mark) return 0;
  // Only what the index is made of: the rest of a message row would be decoded for nothing.
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'type', 'content', 'deleted_at', 'attachments', sql<number>`rowid`.as('backlog_rowid')])
    .where(sql<number>`rowid`, '>', mark.indexed_rowid)
    .orderBy(sql`rowid`)
    .limit(limit)
    .execute();
  const last = rows.at(-1);
  if (!last) return 0;
  await writeMessageIndexes(
    db,
    rows.map((row) => {
      const attachments = JSON.parse(row.attachments) as AttachmentRecord[];
      return { id: row.id, tokens: indexTokens({ id: row.id as MessageId, type: row.type as MessageType, content: row.content, deletedAt: row.deleted_at, attachments }) };
    }),
  );
  await db.updateTable('search_backlog').set({ indexed_rowid: last.backlog_rowid }).where('id', '=', 1).execute();
  return rows.length;
}

/** Indexes the whole backlog in the caller's transaction (a search inside a transaction). */
export async function indexWholeBacklog(db: Kysely<Database>): Promise<void> {
  let indexed: number;
  do indexed = await indexBacklog(db);
  while (indexed >= CHUNK);
}

export interface SearchBacklogOptions {
  /** Runs `indexBacklog` in a transaction of its own (in the store's write lane). */
  index: () => Promise<number>;
  /** How long after a send its message may wait for the index (ms). */
  delayMs?: number;
  /** Sends after which the backlog is indexed at once instead of at the end of the delay. */
  maxPending?: number;
}

/**
 * SQLite: search indexing taken off the send path. A message send with its search entry in the same
 * transaction wrote seven more pages to the WAL at every commit (the entry, its key, and the FTS5
 * segment that each commit flushes): about 40% of a send's writes (docs/benchmarks.md). Sends now only
 * note that there is something to index; the backlog indexes everything past its mark a moment later,
 * hundreds of messages in one transaction, and before any message search, so a search still finds every
 * message sent before it. The mark lives in the database, so messages a crash left unindexed are
 * indexed on the next start.
 */
export class SearchBacklog {
  readonly #index: () => Promise<number>;
  readonly #delayMs: number;
  readonly #maxPending: number;
  // Sends since the last catch-up; one at the start, for what a crash may have left unindexed.
  #pending = 1;
  #timer: NodeJS.Timeout | undefined;
  /** The catch-up running now; later ones wait for it. */
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: SearchBacklogOptions) {
    this.#index = options.index;
    this.#delayMs = options.delayMs ?? 200;
    this.#maxPending = options.maxPending ?? 2000;
  }

  /** A message was written (its transaction may still roll back: then there is just nothing to index). */
  noteAppended(): void {
    this.#pending += 1;
    if (this.#closed) return;
    if (this.#pending >= this.#maxPending) {
      void this.#background();
      return;
    }
    this.#timer ??= setTimeout(() => void this.#background(), this.#delayMs).unref();
  }

  /**
   * Indexes everything written so far. Searches call this first: what was sent before a search is found by
   * it. Cheap when there is nothing to do.
   */
  async catchUp(): Promise<void> {
    // A catch-up already running may have started before the last send: wait for it, then look again.
    while (this.#running) await this.#running.catch(() => undefined);
    if (this.#pending === 0) return;
    await this.#run();
  }

  /** Indexes what is left and stops the timer (the store is closing). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.catchUp();
  }

  async #background(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      await this.catchUp();
    } catch {
      // Nothing is lost: the mark did not move, and the next send, search or start indexes these messages.
    }
  }

  async #run(): Promise<void> {
    // Sends noted from here on may be past what this run reads: they count towards the next one.
    const pending = this.#pending;
    this.#pending = 0;
    this.#running = this.#indexInChunks();
    try {
      await this.#running;
    } catch (err) {
      this.#pending += pending;
      throw err;
    } finally {
      this.#running = undefined;
    }
  }

  /** One transaction per chunk, so that a long backlog (after a crash) does not hold the writer at length. */
  async #indexInChunks(): Promise<void> {
    let indexed: number;
    do indexed = await this.#index();
    while (indexed >= CHUNK);
  }
}
