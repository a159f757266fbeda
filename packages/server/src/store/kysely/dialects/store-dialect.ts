import type { Dialect, Expression, SqlBool } from 'kysely';
import type { QueryUnit } from '../../../domain/index.js';

/** What differs between databases, and nothing else. */
export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres';
  readonly kyselyDialect: Dialect;
  /** Does this driver error mean a unique or primary-key constraint refused the write? */
  isUniqueViolation(err: unknown): boolean;
  /** Does this driver error mean the transaction was given up for its concurrency with others (a deadlock)? */
  isTransient?(err: unknown): boolean;
  /**
   * The schema the store's tables live in, when the database has schemas. Kysely's migrator looks for its
   * own tables in every schema unless told which one, so two Parley schemas in one database would confuse it.
   */
  currentSchema?(): Promise<string>;
  /**
   * Full-text candidates: true for the search row under `alias` (room_search or message_search) when
   * its index may hold every unit. A superset: callers test the exact match on the token strings.
   */
  fullTextMatch(table: 'room_search' | 'message_search', alias: string, units: readonly QueryUnit[]): Expression<SqlBool>;
  /** 1-based position of `needle` in `haystack`, 0 when absent (instr / strpos). */
  position(haystack: Expression<string>, needle: string): Expression<number>;
  /**
   * Runs a statement without results at once, bypassing Kysely, on the one connection of a database
   * that has only one (SQLite). Group commit brackets each transaction of a batch with savepoints
   * through it: between two transactions nothing else can be running on that connection.
   */
  execDirect?(sql: string): void;
  /**
   * Runs a statement at once on the one connection of a database that has only one (SQLite), bypassing
   * Kysely, and returns its rows (none for a statement that returns none). Only for statements of a
   * transaction in progress: then nothing else can be running on that connection.
   */
  runDirect?(sql: string, parameters: readonly unknown[]): unknown[];
  /** Runs once before migrations (schemas, pragmas). */
  prepare?(): Promise<void>;
  /** Stops what the dialect runs beside the store (SQLite's checkpointer), before its connections close. */
  beforeClose?(): Promise<void>;
  /** Releases what `prepare` made that must not outlive the store (a test schema). */
  dispose?(): Promise<void>;
}
