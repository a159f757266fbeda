import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, loadConfig, type ParleyServer } from '@parley/server';
import type { User } from '@parley/protocol';
import type { StoreImpl } from './test-stores.js';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** `fetch` over HTTPS trusting `ca`: the global fetch cannot be given a CA without undici's Agent. */
function httpsFetch(url: string, ca: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(url), { method, headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: h }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A small HTTP client speaking to the server under test as one credential. */
export class Api {
  constructor(
    readonly baseUrl: string,
    readonly credential?: string,
    /** The CA to trust for an https:// server with a self-signed certificate (global fetch cannot take one). */
    readonly ca?: string,
  ) {}

  as(credential: string | undefined): Api {
    return new Api(this.baseUrl, credential, this.ca);
  }

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.credential !== undefined) h['authorization'] = `Bearer ${this.credential}`;
    let payload: string | undefined;
    if (body !== undefined) {
      h['content-type'] ??= 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res =
      this.ca === undefined
        ? await fetch(this.baseUrl + path, { method, headers: h, body: payload })
        : await httpsFetch(this.baseUrl + path, this.ca, method, h, payload);
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, undefined, headers);
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body, headers);
  }
  patch<T = any>(path: string, body?: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }
}

export interface TestUser {
  user: User;
  token: string;
  api: Api;
}

/** A real server on an ephemeral port over a fresh store, with helpers to make users. */
export interface TestServer extends AsyncDisposable {
  server: ParleyServer;
  url: string;
  adminKey: string;
  /** Speaks as the admin key. */
  admin: Api;
  /** Speaks with no credential. */
  anon: Api;
  /** Makes a user (fresh handle) and a chat token for it. */
  user(options?: { kind?: 'human' | 'bot'; handle?: string; displayName?: string; admin?: boolean; password?: string }): Promise<TestUser>;
  close(): Promise<void>;
}

let counter = 0;

export async function startTestServer(impl: StoreImpl, env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-srv-'));
  const store = await impl.open();
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_PORT: '0',
    PARLEY_LOG_LEVEL: 'silent',
    // Tests send in bursts; the rate limit has its own tests, which set it.
    PARLEY_MESSAGE_RATE_PER_SECOND: '100000',
    PARLEY_MESSAGE_BURST: '100000',
    ...env,
  });
  const server = await createServer(config, { store });
  const url = await server.listen();
  const ca = config.tlsCert === undefined ? undefined : readFileSync(config.tlsCert, 'utf8');
  const admin = new Api(url, server.secrets.adminKey, ca);
  const close = async () => {
    await server.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    server,
    url,
    adminKey: server.secrets.adminKey,
    admin,
    anon: new Api(url, undefined, ca),
    async user(options = {}) {
      counter += 1;
      const handle = options.handle ?? `u${process.pid}x${counter}x${Math.random().toString(36).slice(2, 8)}`;
      const created = await admin.post('/v1/users', {
        kind: options.kind ?? 'human',
        handle,
        ...(options.displayName !== undefined ? { displayName: options.displayName } : { displayName: `User ${handle}` }),
        ...(options.admin !== undefined ? { admin: options.admin } : {}),
        ...(options.password !== undefined ? { password: options.password } : {}),
      });
      if (created.status !== 201) throw new Error(`creating user failed: ${created.status} ${JSON.stringify(created.body)}`);
      const scopes = options.admin ? ['chat', 'admin'] : ['chat'];
      const token = await admin.post(`/v1/users/${created.body.user.id}/tokens`, { scopes });
      if (token.status !== 201) throw new Error(`token failed: ${token.status} ${JSON.stringify(token.body)}`);
      return { user: created.body.user, token: token.body.token, api: new Api(url, token.body.token, ca) };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
