import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FsBlobStore } from './blobs/index.js';
import { MemoryBus, RedisBus, type Bus } from './bus/index.js';
import { RealtimeGateway } from './realtime/index.js';
import { resolveSecrets, type ParleyConfig, type ResolvedSecrets } from './config/index.js';
import { createHttpApp } from './http/index.js';
import { createServices, type Services } from './services/index.js';
import { openStore, type Store } from './store/index.js';
import { VERSION } from './version.js';

const SWEEP_INTERVAL_MS = 10 * 60_000;

/** The certificate and key when TLS is configured; unreadable files stop the start with a clear message. */
function readTls(config: ParleyConfig): { cert: Buffer; key: Buffer } | undefined {
  if (config.tlsCert === undefined && config.tlsKey === undefined) return undefined;
  if (config.tlsCert === undefined || config.tlsKey === undefined) {
    throw new Error('TLS needs both a certificate (PARLEY_TLS_CERT, --tls-cert) and its key (PARLEY_TLS_KEY, --tls-key)');
  }
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { cert: read(config.tlsCert, 'certificate'), key: read(config.tlsKey, 'key') };
}

/** Forgets expired idempotency keys now and every few minutes, so the table stays small. */
function startIdempotencySweeper(store: Store, ttlMs: number, onError: (err: unknown) => void): NodeJS.Timeout {
  const sweep = () => void store.idempotency.deleteOlderThan(Date.now() - ttlMs).catch(onError);
  sweep();
  return setInterval(sweep, SWEEP_INTERVAL_MS).unref();
}

/**
 * Runs a housekeeping sweep now and every few minutes (attachments: unsent uploads past their TTL and
 * the files of deleted messages; conversations whose retention ran out). A sweep still running when
 * the next is due is not started twice.
 */
function startSweeper(run: () => Promise<unknown>, onError: (err: unknown) => void): NodeJS.Timeout {
  let running = false;
  const sweep = () => {
    if (running) return;
    running = true;
    void run()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  };
  sweep();
  return setInterval(sweep, SWEEP_INTERVAL_MS).unref();
}

export interface CreateServerOptions {
  /** Use this store instead of opening `config.databaseUrl` (tests; the server then does not close it). */
  store?: Store;
  /** Replaces the clock (tests). */
  clock?: () => number;
}

/** A running (or ready to run) Parley server. */
export interface ParleyServer {
  readonly config: ParleyConfig;
  readonly services: Services;
  readonly store: Store;
  readonly secrets: ResolvedSecrets;
  readonly http: FastifyInstance;
  readonly realtime: RealtimeGateway;
  /** Starts listening; resolves to the base URL (`http://host:port`, or `https://` with TLS). */
  listen(): Promise<string>;
  /** The base URL once listening. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The composition root, the only place that wires layers together: config → secrets → store (with
 * migrations) → bus → services → HTTP.
 */
export async function createServer(config: ParleyConfig, options: CreateServerOptions = {}): Promise<ParleyServer> {
  const secrets = resolveSecrets(config);
  const tls = readTls(config);
  const ownsStore = options.store === undefined;
  const store = options.store ?? (await openStore({ url: config.databaseUrl }));
  let http: FastifyInstance | undefined;
  const onBusError = (err: unknown) => http?.log.error({ err }, 'bus failed');
  const bus: Bus = config.redisUrl ? new RedisBus({ url: config.redisUrl, channel: config.redisChannel, onError: onBusError }) : new MemoryBus(onBusError);
  try {
    const ctx = { store, bus, limits: config.limits, clock: options.clock ?? Date.now };
    const services = createServices(ctx, {
      jwtSecret: secrets.jwtSecret,
      adminKey: secrets.adminKey,
      tokenTtlSeconds: config.tokenTtlSeconds,
    }, {
      blobs: new FsBlobStore(join(config.dataDir, 'attachments')),
      pendingTtlMs: config.attachmentTtlSeconds * 1000,
    }, {
      schedule: { maxAttempts: config.webhookMaxAttempts, baseDelayMs: config.webhookRetryBaseMs, maxDelayMs: config.webhookRetryMaxMs },
      timeoutMs: config.webhookTimeoutMs,
      onError: (err, what) => http?.log.error({ err }, what),
    });
    await services.identity.bootstrap();
    const sweeper = startIdempotencySweeper(store, config.idempotencyTtlSeconds * 1000, (err) =>
      http?.log.error({ err }, 'idempotency key sweep failed'),
    );
    const attachmentSweeper = startSweeper(() => services.attachments.sweep(), (err) =>
      http?.log.error({ err }, 'attachment sweep failed'),
    );
    const retentionSweeper = startSweeper(() => services.conversations.deleteRetentionDue(), (err) =>
      http?.log.error({ err }, 'retention sweep failed'),
    );
    await bus.ready();
    http = await createHttpApp({
      services,
      limits: config.limits,
      logLevel: config.logLevel,
      version: VERSION,
      acsAccessKey: secrets.acsAccessKey,
      ...(config.corsOrigins !== undefined ? { corsOrigins: config.corsOrigins } : {}),
      ...(tls ? { tls } : {}),
    });
    const app = http;
    const realtime = new RealtimeGateway({ services, store, bus, limits: config.limits, clock: ctx.clock, log: app.log });
    realtime.attach(app.server);
    await services.webhookDispatcher.start();
    let url = '';
    let closed = false;
    return {
      config,
      services,
      store,
      secrets,
      http: app,
      realtime,
      get url() {
        return url;
      },
      async listen() {
        await app.listen({ port: config.port, host: config.host });
        const address = app.server.address();
        const port = typeof address === 'object' && address ? address.port : config.port;
        // A wildcard address is where the server listens, not where a client connects.
        const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host.includes(':') ? `[${config.host}]` : config.host;
        url = `${tls ? 'https' : 'http'}://${host}:${port}`;
        return url;
      },
      async close() {
        if (closed) return;
        closed = true;
        clearInterval(sweeper);
        clearInterval(attachmentSweeper);
        clearInterval(retentionSweeper);
        await realtime.close();
        await services.webhookDispatcher.close();
        await app.close();
        await bus.close();
        if (ownsStore) await store.close();
      },
    };
  } catch (err) {
    await bus.close();
    if (ownsStore) await store.close();
    throw err;
  }
}
