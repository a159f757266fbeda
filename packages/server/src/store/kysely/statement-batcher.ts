import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { transactionScope } from './transaction-scope.js';

/**
 * A statement that can do the work of many calls at once: `runMany` gets the inputs of every call sent
 * together, in order, and answers each at the same index.
 */
export interface BatchedStatement<I, O> {
  runMany(db: Kysely<Database>, inputs: readonly I[]): Promise<O[]>;
}

/**
 * Who makes a call: the position of its transaction in the batch. A call that `keepsOrder` (an append)
 * is sent only after those of the earlier transactions with the same key, or once they have ended
 * without one: the seqs of one key follow the order the transactions were asked for, as they do one by one.
 */
export interface Caller {
  position: number;
  keepsOrder?: boolean;
}

interface Waiting {
  statement: BatchedStatement<unknown, unknown>;
  input: unknown;
  caller: Caller | undefined;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers the calls that the transactions of one batch make while they run side by side, and sends them
 * as one statement per kind (see GroupCommitOptions.concurrently). On PostgreSQL each statement is a round
 * trip, and a busy server reads each reply one event-loop turn later: with a batch's sends one after
 * another, a batch of n took 2n + 2 turns, and a lane fell behind for good once a turn grew longer than
 * the time between two of its sends (docs/benchmarks.md). Gathered, a batch of sends takes four round
 * trips whatever its size.
 *
 * The calls go once the transactions have gone as far as they can: the flush runs on `process.nextTick`,
 * which Node runs only after the promise continuations queued meanwhile, however long their chains.
 */
export class StatementBatcher {
  #waiting: Waiting[] = [];
  #scheduled = false;
  // Positions whose ordered call has gone, or that ended: later ones of the same key may go.
  readonly #passed = new Set<number>();

  constructor(
    private readonly db: Kysely<Database>,
    /** The key of each position in the batch. */
    private readonly keys: readonly string[],
  ) {}

  add<I, O>(statement: BatchedStatement<I, O>, input: I, caller?: Caller): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({
        statement: statement as BatchedStatement<unknown, unknown>,
        input,
        caller,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.#schedule();
    });
  }

  /** The transaction at `position` has ended: what waited for it to keep order may go. */
  ended(position: number): void {
    this.#passed.add(position);
    if (this.#waiting.length > 0) this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(() => this.#flush());
  }

  #mayGo(caller: Caller | undefined): boolean {
    if (!caller?.keepsOrder) return true;
    const key = this.keys[caller.position];
    for (let p = 0; p < caller.position; p++) if (this.keys[p] === key && !this.#passed.has(p)) return false;
    return true;
  }

  #flush(): void {
    this.#scheduled = false;
    const going = new Map<BatchedStatement<unknown, unknown>, Waiting[]>();
    const staying: Waiting[] = [];
    // In position order, so that an ordered call going now lets the next one of its key go too.
    const waiting = this.#waiting.sort((a, b) => (a.caller?.position ?? -1) - (b.caller?.position ?? -1));
    for (const w of waiting) {
      if (!this.#mayGo(w.caller)) {
        staying.push(w);
        continue;
      }
      if (w.caller?.keepsOrder) this.#passed.add(w.caller.position);
      let kind = going.get(w.statement);
      if (!kind) going.set(w.statement, (kind = []));
      kind.push(w);
    }
    this.#waiting = staying;
    // Kinds in the order of their first call going (calls without a position, reads, first); the connection
    // runs them in that order.
    for (const [statement, calls] of going) {
      statement.runMany(this.db, calls.map((w) => w.input)).then(
        (outputs) => calls.forEach((w, i) => w.resolve(outputs[i])),
        (err: unknown) => calls.forEach((w) => w.reject(err)),
      );
    }
  }
}

const batchers = transactionScope<StatementBatcher>();

/**
 * Runs `run` with the calls made on transaction `trx` gathered (see StatementBatcher); `keys` are the
 * keys of the batch's transactions, by position.
 */
export function batchingStatements<T>(
  trx: Kysely<Database>,
  keys: readonly string[],
  run: (batcher: StatementBatcher) => Promise<T>,
): Promise<T> {
  const batcher = new StatementBatcher(trx, keys);
  return batchers.run(trx, batcher, () => run(batcher));
}

/** The batcher gathering the calls of `db`'s transaction, when its transactions run side by side now. */
export function batcherOf(db: Kysely<Database>): StatementBatcher | undefined {
  return batchers.get(db);
}

/**
 * The rows of a `runMany` statement that numbers its inputs from 1 (`with ordinality as …(…, ord)`), one
 * per input in input order; undefined for an input without a row.
 */
export function byOrdinal<R>(rows: readonly (R & { ord: number })[], inputs: number): (R | undefined)[] {
  const byOrd = new Map(rows.map(({ ord, ...row }) => [ord, row as R]));
  return Array.from({ length: inputs }, (_, i) => byOrd.get(i + 1));
}
