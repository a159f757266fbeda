import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';
import { transactionScope } from './transaction-scope.js';

const SLOT = Symbol('prepared-query argument');

interface Slot {
  readonly [SLOT]: number;
}

const isSlot = (value: unknown): value is Slot => typeof value === 'object' && value !== null && SLOT in value;

/**
 * Stands for argument `index` of a {@link preparedQuery} while it is built. Typed as whatever the
 * builder expects there; only ever passed to Kysely as a value, never looked into.
 */
export function arg<T>(index: number): T {
  return { [SLOT]: index } as unknown as T;
}

/**
 * The SQL texts of prepared queries, as compiled. The PostgreSQL dialect runs these as named
 * statements, parsed and planned once per connection; every other query stays unnamed (there is no
 * bound on how many shapes the rest of the store builds).
 */
export const preparedSql = new Set<string>();

/** Runs one statement on a database's only connection at once, as its driver would (see StoreDialect.runDirect). */
export type DirectRunner = (sql: string, parameters: readonly unknown[]) => unknown[];

const directRunners = transactionScope<DirectRunner>();

/**
 * Runs `body`, a transaction's work, with the prepared queries it makes on `trx` going straight to the
 * connection through `run` (see preparedQuery). Only while `body` runs: a query on `trx` after it (a
 * leak) goes through Kysely again, which refuses a transaction that has ended.
 */
export function runningDirectly<T>(trx: Kysely<Database>, run: DirectRunner, body: () => Promise<T>): Promise<T> {
  return directRunners.run(trx, run, body);
}

interface Shape {
  compiled: CompiledQuery;
  // For each parameter of the compiled query: the argument it takes, or -1 for a constant of the shape.
  slots: number[];
}

/**
 * A query of fixed shape, built with Kysely and compiled once per database dialect; each run binds its
 * arguments to the same SQL and parameter positions. Kysely builds and compiles every query anew (about
 * a sixth of a message send's time went to that, for the same six statements every time); the hot
 * write path uses these instead. The SQL is exactly what the builder produces, so both dialects keep
 * one definition.
 */
export function preparedQuery<Row, Args extends unknown[]>(
  build: (db: Kysely<Database>) => Compilable<Row>,
): (db: Kysely<Database>, ...args: Args) => Promise<Row[]> {
  // Keyed by the dialect's adapter, which a database and its transactions share.
  const shapes = new WeakMap<object, Shape>();
  return async (db, ...args) => {
    const adapter = db.getExecutor().adapter;
    let shape = shapes.get(adapter);
    if (!shape) {
      const compiled = build(db).compile();
      shape = { compiled, slots: compiled.parameters.map((p) => (isSlot(p) ? p[SLOT] : -1)) };
      preparedSql.add(compiled.sql);
      shapes.set(adapter, shape);
    }
    const { compiled, slots } = shape;
    const parameters = slots.map((slot, i) => (slot < 0 ? compiled.parameters[i] : args[slot]));
    // Inside a transaction the connection is the transaction's until it ends, so a statement of it can go
    // straight to the driver: Kysely's connection provider, executor and promise chain per statement were
    // about a twentieth of a message send (SQLite). Outside one, Kysely must queue it behind any
    // transaction in flight on the one connection, or it would run inside that transaction.
    const direct = directRunners.get(db);
    if (direct) return direct(compiled.sql, parameters) as Row[];
    const result = await db.executeQuery<Row>({ ...compiled, parameters });
    return result.rows;
  };
}

/**
 * A prepared INSERT of one row into `table` with exactly `columns` (every one of them bound, nulls
 * included: a builder would leave out a column whose value is undefined, a prepared shape cannot).
 */
export function insertRow<T extends keyof Database & string>(
  table: T,
  columns: readonly (keyof Database[T] & string)[],
): (db: Kysely<Database>, row: Database[T]) => Promise<void> {
  const insert = preparedQuery<unknown, unknown[]>((db) =>
    db.insertInto(table).values(Object.fromEntries(columns.map((c, i) => [c, arg(i)])) as never),
  );
  return async (db, row) => {
    await insert(db, ...columns.map((c) => row[c] ?? null));
  };
}
