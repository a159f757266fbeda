import { type Kysely, Migrator, type Transaction } from 'kysely';
import type { Store, TransactionOptions } from '../store.js';
import { StoreConflict } from '../store-errors.js';
import type { StoreDialect } from './dialects/store-dialect.js';
import { GroupCommit } from './group-commit.js';
import type { Guard } from './guard.js';
import { KyselyUserStore, KyselyApiKeyStore } from './kysely-user-store.js';
import { KyselyConversationStore } from './kysely-conversation-store.js';
import { KyselyMemberStore } from './kysely-member-store.js';
import { KyselyMessageStore, KyselyEventStore } from './kysely-message-store.js';
import { KyselyIdempotencyStore } from './kysely-idempotency-store.js';
import { KyselyGroupStore } from './kysely-group-store.js';
import { KyselyWebhookStore } from './kysely-webhook-store.js';
import { KyselyAttachmentStore } from './kysely-attachment-store.js';
import { KyselySearchStore } from './kysely-search-store.js';
import { KyselyAuditLogStore } from './kysely-audit-log-store.js';
import { indexBacklog, indexWholeBacklog, SearchBacklog } from './search-backlog.js';
import { migrationProvider } from './migrations/index.js';
import { runningDirectly } from './prepared-query.js';
import { batchingStatements } from './statement-batcher.js';
import type { Database } from './schema.js';

// PostgreSQL: batches run one at a time per lane, each on a connection of its own; several lanes keep the
// pool busy. A batch's sends run side by side, their statements gathered (StatementBatcher), so a batch of
// sends is four round trips; the rest of a batch runs one transaction after another. Two batches never share a key (one key, one
// lane) and take their locks in key order, so batches of one process cannot deadlock each other; those of
// two processes could only through locks outside their keys, and are then run again one by one.
const POSTGRES_LANES = 4;
const POSTGRES_MAX_BATCH = 48;
const SQLITE_MAX_BATCH = 256;

function groupCommitLanes(db: Kysely<Database>, seam: StoreDialect): GroupCommit[] {
  // SQLite has one writer connection: transactions wait for it anyway, so those that arrive together share a commit.
  if (seam.name === 'sqlite') {
    return [new GroupCommit(db, { maxBatch: SQLITE_MAX_BATCH, ...(seam.execDirect ? { execDirect: seam.execDirect } : {}) })];
  }
  const options = {
    maxBatch: POSTGRES_MAX_BATCH,
    ...(seam.isTransient ? { isTransient: seam.isTransient } : {}),
    concurrently: batchingStatements,
  };
  return Array.from({ length: POSTGRES_LANES }, () => new GroupCommit(db, options));
}

/** The lane of a key (exported for tests that need two keys in one lane). */
export function laneOf(key: string, lanes = POSTGRES_LANES): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
  return (h >>> 0) % lanes;
}

/** The one Store implementation, over any Kysely dialect. A transaction is a KyselyStore over a Transaction. */
export class KyselyStore implements Store {
  readonly users: KyselyUserStore;
  readonly apiKeys: KyselyApiKeyStore;
  readonly conversations: KyselyConversationStore;
  readonly members: KyselyMemberStore;
  readonly messages: KyselyMessageStore;
  readonly events: KyselyEventStore;
  readonly idempotency: KyselyIdempotencyStore;
  readonly groups: KyselyGroupStore;
  readonly webhooks: KyselyWebhookStore;
  readonly attachments: KyselyAttachmentStore;
  readonly search: KyselySearchStore;
  readonly audit: KyselyAuditLogStore;
  readonly dialect: 'sqlite' | 'postgres';
  // SQLite: one lane for every transaction. PostgreSQL: lanes for keyed transactions, a key always in the same one.
  readonly #lanes: readonly GroupCommit[];
  // SQLite: indexes new messages for search after their sends commit (shared with the transactions' stores).
  readonly #searchBacklog: SearchBacklog | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly seam: StoreDialect,
    private readonly inTransaction = false,
    searchBacklog?: SearchBacklog,
    /** A transaction's store: the transaction's place in its batch, when it runs side by side with others. */
    position?: number,
  ) {
    const guard: Guard = async (constraint, write) => {
      try {
        return await write();
      } catch (err) {
        if (seam.isUniqueViolation(err)) throw new StoreConflict(constraint, { cause: err });
        throw err;
      }
    };
    this.dialect = seam.name;
    this.#lanes = inTransaction ? [] : groupCommitLanes(db, seam);
    const lane = this.#lanes[0];
    const index = (trx: Transaction<Database>) => this.#direct(trx, () => indexBacklog(trx));
    this.#searchBacklog = searchBacklog ?? (seam.name === 'sqlite' && lane ? new SearchBacklog({ index: () => lane.run(index) }) : undefined);
    this.users = new KyselyUserStore(db, guard);
    this.apiKeys = new KyselyApiKeyStore(db, guard);
    this.conversations = new KyselyConversationStore(db, guard);
    this.members = new KyselyMemberStore(db, guard);
    this.messages = new KyselyMessageStore(db, guard, seam.name, this.#searchBacklog, position);
    this.events = new KyselyEventStore(db, guard);
    this.idempotency = new KyselyIdempotencyStore(db, guard);
    this.groups = new KyselyGroupStore(db, guard);
    this.webhooks = new KyselyWebhookStore(db, guard);
    this.attachments = new KyselyAttachmentStore(db, guard);
    const backlog = this.#searchBacklog;
    // A search finds every message sent before it: inside a transaction (already in the write lane) by
    // indexing the backlog there, outside by waiting for the backlog to catch up.
    const catchUp = !backlog ? undefined : inTransaction ? () => indexWholeBacklog(db) : () => backlog.catchUp();
    this.search = new KyselySearchStore(db, seam, catchUp);
    this.audit = new KyselyAuditLogStore(db);
  }

  transaction<T>(fn: (tx: Store) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.inTransaction) return fn(this);
    const body = (trx: Transaction<Database>, position?: number) =>
      this.#direct(trx, () => fn(new KyselyStore(trx, this.seam, true, this.#searchBacklog, position)));
    const { key, independent = false } = options;
    if (this.seam.name === 'sqlite') return this.#lanes[0]!.run(body, key, independent);
    if (key === undefined) return this.db.transaction().execute(body);
    return this.#lanes[laneOf(key, this.#lanes.length)]!.run(body, key, independent);
  }

  /** Runs a transaction's work with its prepared statements straight on the connection, where the dialect can. */
  #direct<T>(trx: Transaction<Database>, work: () => Promise<T>): Promise<T> {
    const { runDirect } = this.seam;
    return runDirect ? runningDirectly(trx, runDirect, work) : work();
  }

  async migrate(): Promise<void> {
    await this.seam.prepare?.();
    const schema = await this.seam.currentSchema?.();
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider,
      migrationTableName: 'parley_migrations',
      migrationLockTableName: 'parley_migrations_lock',
      ...(schema !== undefined ? { migrationTableSchema: schema } : {}),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error');
      throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
    }
  }

  /** SQLite: indexes for search the messages a crash left unindexed (the store calls it once open). */
  async catchUpSearchIndex(): Promise<void> {
    await this.#searchBacklog?.catchUp();
  }

  async close(): Promise<void> {
    if (!this.inTransaction) await this.#searchBacklog?.close();
    await this.seam.beforeClose?.();
    await this.db.destroy();
    await this.seam.dispose?.();
  }
}
