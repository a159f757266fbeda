import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

interface Pending {
  fn: (trx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

// Bounds how long one batch holds the database and how much FTS5 keeps pending in memory.
const MAX_BATCH = 256;

/**
 * Group commit for a database with one writer (SQLite): the transactions asked for in one event-loop
 * turn run one after another inside one database transaction, each in a savepoint of its own, and share
 * its commit. A commit (the WAL append, FTS5 flushing its pending terms into a new segment, an automatic
 * checkpoint now and then) was the largest single cost of a message send; under load it is now paid once
 * per batch. Each caller still sees its own transaction: a failure rolls back to its savepoint and
 * rejects only that caller, later transactions of the batch see what earlier ones wrote, and every
 * caller hears back only after the commit (or learns that it failed: then nothing of the batch is kept).
 * One transaction alone in its turn runs as a plain transaction, without savepoints.
 */
export class GroupCommit {
  #queue: Pending[] = [];
  #scheduled = false;
  #running = false;

  constructor(
    private readonly db: Kysely<Database>,
    /** Runs savepoint statements directly on the connection (see StoreDialect.execDirect). */
    private readonly execDirect?: (sql: string) => void,
  ) {}

  run<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#running || this.#queue.length === 0) return;
    this.#scheduled = true;
    // After the poll phase: every request read in this turn joins the batch.
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    this.#running = true;
    const batch = this.#queue.splice(0, MAX_BATCH);
    try {
      if (batch.length === 1) {
        const only = batch[0]!;
        await this.db.transaction().execute(only.fn).then(only.resolve, only.reject);
        return;
      }
      let outcomes: Outcome[];
      try {
        outcomes = await this.db.transaction().execute(async (trx) => {
          const results: Outcome[] = [];
          for (const item of batch) results.push(await this.#inSavepoint(trx, item.fn));
          return results;
        });
      } catch (err) {
        // The commit failed (or the database gave up the transaction): nothing of the batch is kept.
        for (const item of batch) item.reject(err);
        return;
      }
      outcomes.forEach((outcome, i) => (outcome.ok ? batch[i]!.resolve(outcome.value) : batch[i]!.reject(outcome.err)));
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }

  async #inSavepoint(trx: Transaction<Database>, fn: Pending['fn']): Promise<Outcome> {
    await this.#exec(trx, 'savepoint parley_gc');
    try {
      const value = await fn(trx);
      await this.#exec(trx, 'release parley_gc');
      return { ok: true, value };
    } catch (err) {
      // Undo this caller's writes only; if the database already abandoned the whole transaction, these
      // throw and the batch fails as a whole, as it must. Through Kysely: a query of the failed caller
      // may still be queued on the connection (one of several it started at once), and it must run
      // before the rollback, not after it.
      await sql.raw('rollback to parley_gc').execute(trx);
      await sql.raw('release parley_gc').execute(trx);
      return { ok: false, err };
    }
  }

  async #exec(trx: Transaction<Database>, statement: string): Promise<void> {
    if (this.execDirect) this.execDirect(statement);
    else await sql.raw(statement).execute(trx);
  }
}
