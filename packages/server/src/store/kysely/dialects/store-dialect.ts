import type { Dialect } from 'kysely';

/** What differs between databases, and nothing else. */
export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres';
  readonly kyselyDialect: Dialect;
  /** Does this driver error mean a unique or primary-key constraint refused the write? */
  isUniqueViolation(err: unknown): boolean;
  /**
   * The schema the store's tables live in, when the database has schemas. Kysely's migrator looks for its
   * own tables in every schema unless told which one, so two Parley schemas in one database would confuse it.
   */
  currentSchema?(): Promise<string>;
  /** Runs once before migrations (schemas, pragmas). */
  prepare?(): Promise<void>;
  /** Releases what `prepare` made that must not outlive the store (a test schema). */
  dispose?(): Promise<void>;
}
