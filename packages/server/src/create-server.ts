import type { FastifyInstance } from 'fastify';
import { MemoryBus, RedisBus, type Bus } from './bus/index.js';
import { RealtimeGateway } from './realtime/index.js';
import { resolveSecrets, type ParleyConfig, type ResolvedSecrets } from './config/index.js';
import { createHttpApp } from './http/index.js';
import { createServices, type Services } from './services/index.js';
import { openStore, type Store } from './store/index.js';
import { VERSION } from './version.js';

const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Forgets expired idempotency keys now and every few minutes, so the table stays small. */
function startIdempotencySweeper(store: Store, ttlMs: number, onError: (err: unknown) => void): NodeJS.Timeout {
  const sweep = () => void store.idempotency.deleteOlderThan(Date.now() - ttlMs).catch(onError);
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
  /** Starts listening; resolves to the base URL (`http://host:port`). */
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
    });
    await services.identity.bootstrap();
    const sweeper = startIdempotencySweeper(store, config.idempotencyTtlSeconds * 1000, (err) =>
      http?.log.error({ err }, 'idempotency key sweep failed'),
    );
    await bus.ready();
    http = await createHttpApp({ services, limits: config.limits, logLevel: config.logLevel, version: VERSION });
    const app = http;
    const realtime = new RealtimeGateway({ services, store, bus, limits: config.limits, clock: ctx.clock, log: app.log });
    realtime.attach(app.server);
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
        url = `http://${host}:${port}`;
        return url;
      },
      async close() {
        if (closed) return;
        closed = true;
        clearInterval(sweeper);
        await realtime.close();
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
