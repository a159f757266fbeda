import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * A value attached to a transaction while a piece of its work runs, found again from the transaction's
 * Kysely instance by the store code that work calls (how a transaction's statements run directly on
 * SQLite, or are gathered on PostgreSQL). Attached only while `run`'s body runs: a store used after it
 * finds nothing and takes the ordinary path.
 */
export interface TransactionScope<V> {
  run<T>(trx: Kysely<Database>, value: V, body: () => Promise<T>): Promise<T>;
  get(db: Kysely<Database>): V | undefined;
}

export function transactionScope<V>(): TransactionScope<V> {
  const values = new WeakMap<Kysely<Database>, V>();
  return {
    async run(trx, value, body) {
      values.set(trx, value);
      try {
        return await body();
      } finally {
        values.delete(trx);
      }
    },
    get: (db) => values.get(db),
  };
}
