import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, loadConfig, type ParleyServer } from '@parley/server';
import { ParleyClient, type ParleyClientOptions, type User } from '@parley/sdk';
import type { StoreImpl } from './stores.js';

export interface TestUser {
  user: User;
  token: string;
  /** A client speaking as this user (closed with the server). */
  client: ParleyClient;
}

/** A real Parley server on an ephemeral port over a fresh store, with an admin SDK client. */
export interface TestServer extends AsyncDisposable {
  server: ParleyServer;
  url: string;
  adminKey: string;
  /** An SDK client using the admin API key. */
  admin: ParleyClient;
  /** Makes a user with a fresh handle, a chat token and a client (options go to the client). */
  user(options?: { kind?: 'human' | 'bot'; admin?: boolean; password?: string; displayName?: string; client?: Partial<ParleyClientOptions> }): Promise<TestUser>;
  /** A client for this server that is closed with it. */
  client(options: Omit<ParleyClientOptions, 'baseUrl'> & { baseUrl?: string }): ParleyClient;
  close(): Promise<void>;
}

let counter = 0;

/** Starts a server; `env` overrides settings (PARLEY_*). */
export async function startTestServer(impl: StoreImpl, env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-sdk-srv-'));
  const store = await impl.open();
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_PORT: '0',
    PARLEY_LOG_LEVEL: 'silent',
    PARLEY_MESSAGE_RATE_PER_SECOND: '100000',
    PARLEY_MESSAGE_BURST: '100000',
    ...env,
  });
  const server = await createServer(config, { store });
  const url = await server.listen();
  const clients: ParleyClient[] = [];
  const client: TestServer['client'] = (options) => {
    const c = new ParleyClient({ baseUrl: url, retry: { initialDelayMs: 20, maxDelayMs: 200 }, ...options });
    clients.push(c);
    return c;
  };
  const admin = client({ token: server.secrets.adminKey });
  const close = async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    server,
    url,
    adminKey: server.secrets.adminKey,
    admin,
    async user(options = {}) {
      counter += 1;
      const handle = `u${process.pid}x${counter}x${Math.random().toString(36).slice(2, 8)}`;
      const { user } = await admin.createUser({
        kind: options.kind ?? 'human',
        handle,
        displayName: options.displayName ?? `User ${counter}`,
        ...(options.admin !== undefined ? { admin: options.admin } : {}),
        ...(options.password !== undefined ? { password: options.password } : {}),
      });
      const { token } = await admin.createUserToken(user.id, { scopes: options.admin ? ['chat', 'admin'] : ['chat'] });
      return { user, token, client: client({ token, ...options.client }) };
    },
    client,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Waits until `check` returns true, polling; fails with `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
