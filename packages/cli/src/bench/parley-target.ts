import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REALTIME_PATH,
  REALTIME_SUBPROTOCOL,
  type AddMembersResult,
  type CreateConversationResult,
  type CreateUserResult,
  type Limits,
  type TokenResult,
} from '@parley/protocol';
import { createServer, loadConfig, openStore, type ParleyServer, type Store } from '@parley/server';
import { AdminClient } from '../admin-client.js';
import type { BenchMember } from './generator-protocol.js';
import { onExit } from './exit-cleanup.js';
import { inParallel } from './in-parallel.js';
import { windowProfileEnv } from './loop-probe-protocol.js';
import { spawnServer, type LoopProbe, type ServerProcess } from './server-process.js';

/** A server under test, started by the bench or already running. */
export interface BenchTarget {
  readonly name: 'parley' | 'baseline';
  /** Base URLs, one per server process. */
  readonly urls: readonly string[];
  /** Server processes the bench can sample (empty: figures unknown, e.g. a server given with --url). */
  readonly pids: readonly number[];
  /** The event loops of those processes (empty with them). */
  readonly loops: readonly LoopProbe[];
  /** What the reader should know about how it runs (pinning, raised limits, store). */
  readonly notes: readonly string[];
  close(): Promise<void>;
}

export interface ParleyTarget extends BenchTarget {
  readonly name: 'parley';
  readonly adminKey: string;
}

export interface StartParleyOptions {
  /** A running server; the bench then starts nothing. */
  url?: string;
  adminKey?: string;
  store: 'sqlite' | 'postgres';
  databaseUrl: string;
  redisUrl: string;
  processes: number;
  /** Run the server(s) inside the bench process instead of as pinned child processes. */
  inProcess: boolean;
  /** Cores to pin the server process(es) to, or undefined not to pin. */
  cpus: string | undefined;
  /** Extra server settings, e.g. `{ PARLEY_MAX_CONNECTIONS_PER_USER: '100' }`. */
  env?: Record<string, string>;
  /**
   * Fills the store before the measured server starts: it runs against a server in this process, on the
   * same data directory and database, which is then closed (unless the measured server is in-process).
   */
  prefill?: (server: ParleyServer) => Promise<void>;
  /** Write a CPU profile of each server process's measured windows into this directory, for flame graphs. */
  cpuProfDir?: string;
}

// High enough that no bench rate ever meets the per-user message limit.
const UNLIMITED = '1000000';
const PARLEY_BIN = new URL('../../bin/parley.js', import.meta.url);

/**
 * Starts Parley for a bench run (or adopts the one at `url`): on a temporary data directory with SQLite,
 * or on a fresh PostgreSQL schema (dropped at close), one process or several sharing PostgreSQL and
 * Redis, with the per-user message rate limit raised out of the way.
 */
export async function startParley(options: StartParleyOptions): Promise<ParleyTarget> {
  if (options.url !== undefined) {
    if (options.adminKey === undefined) throw new Error('--url needs --admin-key (or PARLEY_ADMIN_KEY)');
    const url = options.url.replace(/\/+$/, '');
    return { name: 'parley', urls: [url], pids: [], loops: [], adminKey: options.adminKey, notes: [`Parley: the running server at ${url} (not started by the bench: no server figures)`], close: async () => {} };
  }
  const adminKey = `bench_admin_${randomBytes(16).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const removeDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  const forgetDir = onExit(removeDir);
  const cleanups: (() => Promise<void>)[] = [
    async () => {
      removeDir();
      forgetDir();
    },
  ];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const env: Record<string, string> = {
      PARLEY_ADMIN_KEY: adminKey,
      PARLEY_JWT_SECRET: randomBytes(32).toString('hex'),
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_HOST: '127.0.0.1',
      PARLEY_PORT: '0',
      PARLEY_MESSAGE_RATE_PER_SECOND: UNLIMITED,
      PARLEY_MESSAGE_BURST: UNLIMITED,
      PARLEY_TOKEN_TTL_SECONDS: '86400',
      ...options.env,
    };
    let storeNote = `SQLite in ${dataDir}`;
    if (options.store === 'postgres' || options.processes > 1) {
      const schema = `parley_bench_${randomBytes(6).toString('hex')}`;
      // Creates and migrates the schema now; closing this store drops it with everything in it.
      const owner: Store = await openStore({ url: options.databaseUrl, schema, dropSchemaOnClose: true });
      cleanups.push(() => owner.close());
      env['PARLEY_DATABASE_URL'] = withSearchPath(options.databaseUrl, schema);
      storeNote = `PostgreSQL ${redact(options.databaseUrl)}, schema ${schema} (dropped afterwards)`;
    }
    if (options.processes > 1) {
      env['PARLEY_REDIS_URL'] = options.redisUrl;
      env['PARLEY_REDIS_CHANNEL'] = `parley:bench:${randomBytes(6).toString('hex')}`;
      storeNote += `, Redis ${options.redisUrl}`;
    }
    const urls: string[] = [];
    const pids: number[] = [];
    const loops: LoopProbe[] = [];
    if (options.prefill && !options.inProcess) {
      const filler = await createServer(loadConfig({ ...env, PARLEY_DATA_DIR: join(dataDir, 'p0') }));
      try {
        await options.prefill(filler);
      } finally {
        await filler.close();
      }
    }
    for (let i = 0; i < options.processes; i += 1) {
      const dir = join(dataDir, `p${i}`);
      if (options.inProcess) {
        const server: ParleyServer = await createServer(loadConfig({ ...env, PARLEY_DATA_DIR: dir }));
        cleanups.push(() => server.close());
        urls.push(await server.listen());
        if (i === 0) await options.prefill?.(server);
      } else {
        const child: ServerProcess = await spawnServer({
          args: [PARLEY_BIN.pathname, 'serve'],
          env: {
            ...withoutParleySettings(process.env),
            ...env,
            PARLEY_DATA_DIR: dir,
            ...windowProfileEnv(options.cpuProfDir),
          },
          cpus: options.cpus,
          ready: /Parley is listening on (\S+)/,
          label: `Parley server ${i + 1}`,
        });
        cleanups.push(() => child.stop());
        urls.push(child.url);
        pids.push(child.pid);
        loops.push(child.loop);
      }
    }
    const where = options.inProcess ? 'inside the bench process (no server figures)' : options.cpus !== undefined ? `pinned to CPU ${options.cpus}` : 'not pinned';
    return {
      name: 'parley',
      urls,
      pids,
      loops,
      adminKey,
      notes: [
        `Parley: ${options.processes} process${options.processes > 1 ? 'es' : ''} started by the bench, ${where}; ${storeNote}`,
        ...(options.cpuProfDir !== undefined && !options.inProcess ? [`Parley: a CPU profile of each measured window goes to ${options.cpuProfDir} (window-<pid>-<n>.cpuprofile)`] : []),
        `Parley: per-user message rate limit raised to ${UNLIMITED}/s (PARLEY_MESSAGE_RATE_PER_SECOND, PARLEY_MESSAGE_BURST) so the bench measures fan-out, not the limiter`,
      ],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The connection string with `search_path` set, so every server process works in the bench's schema. */
function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** The runner's own PARLEY_* settings must not leak into the servers the bench configures. */
function withoutParleySettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('PARLEY_')));
}

export interface RoomLayout {
  rooms: number;
  membersPerRoom: number;
}

/**
 * Creates `rooms × membersPerRoom` users, each with its own token, and the rooms (member `k` is in room
 * `k mod rooms`), through the REST API with the admin key; members connect to the server processes in
 * turn. Returns the members ready for the generator.
 */
export interface ParleyRooms {
  members: BenchMember[];
  /** Deletes the rooms and users the bench created (for a server the bench did not start); resolves to the failures. */
  remove(): Promise<string[]>;
}

export async function setUpParleyRooms(target: ParleyTarget, layout: RoomLayout, concurrency = 16): Promise<ParleyRooms> {
  const base = target.urls[0] as string;
  const admin = new AdminClient({ url: base, adminKey: target.adminKey });
  const limits = await admin.requestJson<Limits>('GET', '/v1/limits');
  const run = randomBytes(4).toString('hex');
  const total = layout.rooms * layout.membersPerRoom;
  const users = await inParallel(Array.from({ length: total }, (_, k) => k), concurrency, async (k) => {
    const created = await admin.requestJson<CreateUserResult>('POST', '/v1/users', { kind: 'human', handle: `bench-${run}-${k}`, displayName: `Bench member ${k}` });
    const token = await admin.requestJson<TokenResult>('POST', `/v1/users/${encodeURIComponent(created.user.id)}/tokens`, { scopes: ['chat'], expiresInSeconds: 86_400 });
    return { id: created.user.id, token: token.token };
  });
  const conversationIds = await inParallel(Array.from({ length: layout.rooms }, (_, r) => r), concurrency, async (r) => {
    const ids = users.filter((_, k) => k % layout.rooms === r).map((u) => u.id);
    const chunk = limits.maxMembersPerRequest;
    const created = await admin.requestJson<CreateConversationResult>('POST', '/v1/conversations', {
      kind: 'room',
      title: `Bench room ${run}-${r}`,
      members: ids.slice(0, chunk),
    });
    for (let at = chunk; at < ids.length; at += chunk) {
      const added = await admin.requestJson<AddMembersResult>('POST', `/v1/conversations/${created.conversation.id}/members`, { members: ids.slice(at, at + chunk) });
      if (added.failures.length > 0) throw new Error(`adding bench members failed: ${JSON.stringify(added.failures[0])}`);
    }
    return created.conversation.id;
  });
  const members = users.map((u, k): BenchMember => {
    const http = target.urls[k % target.urls.length] as string;
    return {
      index: k,
      room: k % layout.rooms,
      conversationId: conversationIds[k % layout.rooms] as string,
      url: `${http.replace(/^http/, 'ws')}${REALTIME_PATH}`,
      headers: { authorization: `Bearer ${u.token}` },
      protocols: [REALTIME_SUBPROTOCOL],
    };
  });
  const remove = async (): Promise<string[]> => {
    const failures: string[] = [];
    const attempt = (path: string) => admin.request('DELETE', path).catch((err: unknown) => void failures.push(`DELETE ${path}: ${err instanceof Error ? err.message : String(err)}`));
    await inParallel(conversationIds, concurrency, (id) => attempt(`/v1/conversations/${encodeURIComponent(id)}`));
    await inParallel(users, concurrency, (u) => attempt(`/v1/users/${encodeURIComponent(u.id)}`));
    return failures;
  };
  return { members, remove };
}

/** Limits of the target that would distort the bench, as warnings (for a server the bench did not start). */
export async function parleyLimitWarnings(target: ParleyTarget, perMemberRate: number): Promise<string[]> {
  const admin = new AdminClient({ url: target.urls[0] as string, adminKey: target.adminKey });
  const limits = await admin.requestJson<Limits>('GET', '/v1/limits');
  return perMemberRate > limits.messageRatePerSecond
    ? [`the server allows ${limits.messageRatePerSecond} messages/s per user, below the ${perMemberRate.toFixed(1)}/s each member sends: expect rate_limited errors (raise PARLEY_MESSAGE_RATE_PER_SECOND)`]
    : [];
}
