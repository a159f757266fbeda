/**
 * store/: persistence. Owns one small interface per aggregate (users, API keys, conversations, members,
 * messages, events, idempotency keys, attachment records, search, the audit log) hung off a root `Store`, and the one Kysely
 * implementation that serves SQLite and PostgreSQL. Only this layer imports kysely and the database
 * drivers; what truly differs between databases sits behind `StoreDialect`. May import domain/ and @parley/protocol.
 */
export type * from './store.js';
export { StoreConflict, isStoreConflict } from './store-errors.js';
export { openStore, type OpenStoreOptions } from './kysely/open-store.js';
