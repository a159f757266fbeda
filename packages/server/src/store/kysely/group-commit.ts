import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/** A transaction's body; `position` is its place in the batch when it runs side by side with others. */
type Body = (trx: Transaction<Database>, position?: number) => Promise<unknown>;

/** What runs a batch's transactions side by side learns from the group commit. */
export interface SideBySide {
  /** The transaction at `position` has ended (its body settled). */
  ended(position: number): void;
}

interface Pending {
  fn: Body;
  key: string;
  independent: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

export interface GroupCommitOptions {
  /**
   * Most transactions in one batch: bounds how long a batch holds the database, how much SQLite's FTS5
   * keeps pending in memory, and (PostgreSQL) the subtransactions of one transaction, which past 64 no
   * longer fit in a backend's cache and slow every other backend's snapshots.
   */
  maxBatch: number;
  /** Runs savepoint statements directly on the connection (see StoreDialect.execDirect). */
  execDirect?: (sql: string) => void;
  /**
   * Does this error mean the database gave the transaction up for its concurrency with others (a
   * deadlock), not for what it did? A transaction of a batch that fails so is run again on its own.
   */
  isTransient?: (err: unknown) => boolean;
  /**
   * Lets the independent transactions of a batch run side by side (see `run`), inside this wrapper,
   * which gathers the statements they make together (StatementBatcher). Without it, a batch's
   * transactions always run one after another.
   */
  concurrently?: <T>(trx: Transaction<Database>, keys: readonly string[], run: (sideBySide: SideBySide) => Promise<T>) => Promise<T>;
}

class CallerFailed {
  constructor(
    readonly index: number,
    readonly err: unknown,
  ) {}
}

/**
 * Group commit: the transactions asked for in one event-loop turn run one after another inside one
 * database transaction and share its commit. A commit (SQLite: the WAL append, FTS5 flushing its pending
 * terms into a new segment, an automatic checkpoint now and then; PostgreSQL: a round trip, the WAL flush
 * and its fsync) was the largest single cost of a message send; under load it is now paid once per batch.
 * Each caller still sees its own transaction: later transactions of a batch see what earlier ones wrote,
 * and every caller hears back only after the commit.
 *
 * A batch runs first without savepoints (on PostgreSQL each is a round trip; on SQLite a savepoint and
 * its release were about a tenth of a send). When one of its transactions fails, all of the batch is
 * rolled back and run again without it, each transaction in a savepoint of its own (so that a second
 * failure undoes only its own writes); the one that failed is rejected once the rest is committed, so
 * that it sees what they wrote (a retry after a conflict finds the winner). When the batch fails as a
 * whole (its commit, or a deadlock with another process's batch), each of its transactions runs again
 * alone. Bodies may so run more than once: they must keep their effects inside the transaction (what
 * they do after it, such as publishing events, happens once).
 *
 * A batch runs its transactions in key order (stable, so one key's stay in the order they were asked
 * for): two batches that lock rows by key take them in the same order. One transaction alone in its
 * turn runs as a plain transaction. One batch runs at a time.
 *
 * With the `concurrently` option (PostgreSQL), a batch's independent transactions (message sends) run
 * side by side and their statements are gathered into one per kind: a batch of sends costs the same
 * few round trips whatever its size. Such a batch that fails in any way is run again as above.
 */
export class GroupCommit {
  #queue: Pending[] = [];
  #scheduled = false;
  #running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: GroupCommitOptions,
  ) {}

  /**
   * Runs `fn` in the next batch. An `independent` transaction does not depend on what the others of its
   * batch write, nor they on what it writes, beyond what each statement does atomically (a seq taken):
   * with the `concurrently` option, consecutive independent transactions of a batch run side by side.
   * Any failure among them rolls the batch back and runs it again one transaction after another, as
   * described above.
   */
  run<T>(fn: (trx: Transaction<Database>, position?: number) => Promise<T>, key = '', independent = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, key, independent, resolve: resolve as (value: unknown) => void, reject });
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
    const batch = this.#queue.splice(0, this.options.maxBatch).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    try {
      if (batch.length === 1) {
        await this.#alone(batch[0]!);
        return;
      }
      if (this.options.concurrently && batch.some((item) => item.independent) && (await this.#sideBySide(batch, this.options.concurrently))) return;
      await this.#optimistic(batch);
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }

  /**
   * Runs the batch with its consecutive independent transactions side by side; a dependent one waits for
   * those before it and runs alone. False, with nothing kept, when any of them failed.
   */
  async #sideBySide(batch: Pending[], concurrently: NonNullable<GroupCommitOptions['concurrently']>): Promise<boolean> {
    let values: unknown[];
    try {
      values = await this.db.transaction().execute((trx) =>
        concurrently(trx, batch.map((item) => item.key), async (sideBySide) => {
          const results: unknown[] = [];
          for (let i = 0; i < batch.length; ) {
            let end = i + 1;
            if (batch[i]!.independent) while (end < batch.length && batch[end]!.independent) end += 1;
            const running = batch.slice(i, end).map((item, j) => {
              const position = i + j;
              const body = item.fn(trx, position);
              void body.then(() => sideBySide.ended(position), () => sideBySide.ended(position));
              return body;
            });
            const settled = await Promise.allSettled(running);
            for (const outcome of settled) {
              // Rolls the batch back; which transaction failed, and why, the one-by-one run finds out.
              if (outcome.status === 'rejected') throw outcome.reason;
              results.push(outcome.value);
            }
            i = end;
          }
          return results;
        }),
      );
    } catch {
      return false;
    }
    values.forEach((value, i) => batch[i]!.resolve(value));
    return true;
  }

  async #withSavepoints(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction().execute(async (trx) => {
        const results: Outcome[] = [];
        for (const item of batch) results.push(await this.#inSavepoint(trx, item.fn));
        return results;
      });
    } catch {
      // The commit failed (or the database gave up the transaction): nothing of the batch is kept.
      for (const item of batch) await this.#alone(item);
      return;
    }
    const again: Pending[] = [];
    outcomes.forEach((outcome, i) => {
      const item = batch[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else if (this.#transient(outcome.err)) again.push(item);
      else item.reject(outcome.err);
    });
    for (const item of again) await this.#alone(item);
  }

  #transient(err: unknown): boolean {
    return this.options.isTransient?.(err) ?? false;
  }

  async #optimistic(batch: Pending[]): Promise<void> {
    let values: unknown[];
    try {
      values = await this.db.transaction().execute(async (trx) => {
        const results: unknown[] = [];
        for (const [i, item] of batch.entries()) {
          try {
            results.push(await item.fn(trx));
          } catch (err) {
            throw new CallerFailed(i, err);
          }
        }
        return results;
      });
    } catch (err) {
      if (!(err instanceof CallerFailed) || this.#transient(err.err)) {
        for (const item of batch) await this.#alone(item);
        return;
      }
      const failed = batch[err.index]!;
      await this.#withSavepoints(batch.filter((_, i) => i !== err.index));
      failed.reject(err.err);
      return;
    }
    values.forEach((value, i) => batch[i]!.resolve(value));
  }

  #alone(item: Pending): Promise<void> {
    return this.db.transaction().execute(item.fn).then(item.resolve, item.reject);
  }

  async #inSavepoint(trx: Transaction<Database>, fn: Body): Promise<Outcome> {
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
    const { execDirect } = this.options;
    if (execDirect) execDirect(statement);
    else await sql.raw(statement).execute(trx);
  }
}
