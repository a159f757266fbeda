import type { ErrorBody } from '@parley/protocol';
import { ParleyApiError, isParleyApiError } from './parley-api-error.js';
import { isRetryable, resolveRetryOptions, retryDelay, type ResolvedRetryOptions, type RetryOptions } from './retry-policy.js';
import type { TokenCredential } from './token-credential.js';

/** Options every SDK call accepts. */
export interface OperationOptions {
  /** Cancels the call (and its retries). */
  signal?: AbortSignal;
}

/** How the client talks HTTP. */
export interface HttpPipelineOptions {
  /** The server, e.g. `https://chat.example.com`. */
  baseUrl: string;
  /** Where tokens come from; none for unauthenticated calls. */
  credential?: TokenCredential | undefined;
  /** The retry policy. */
  retry?: RetryOptions | undefined;
  /** Per-attempt timeout in milliseconds (default 30 000). */
  timeoutMs?: number | undefined;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch | undefined;
}

/** A query parameter's value; an array repeats the parameter (`labels=a&labels=b`). */
export type QueryValue = string | number | boolean | readonly string[] | undefined;

/** Raw bytes to send as a request body, as they are (uploads). */
export interface RawBody {
  /** The bytes: a `Blob`, a buffer, or a stream (sent chunked, without buffering). */
  data: Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>;
  /** The `Content-Type` sent with it (the server may ignore it). */
  contentType: string;
}

/** One request, as the SDK's methods describe it. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, QueryValue> | undefined;
  /** A JSON body. */
  body?: unknown;
  /** Raw bytes instead of a JSON body. A stream can be sent once only, so it is never retried. */
  rawBody?: RawBody | undefined;
  headers?: Record<string, string> | undefined;
  /**
   * Whether sending the request twice does no more than sending it once (reads, attribute updates, and
   * creates that carry an idempotency key). Only such requests are retried after network errors and 5xx.
   */
  repeatable: boolean;
  /** False for calls that need no credential (login, limits). */
  authenticate?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** A successful answer whose body has not been read yet (downloads). */
export interface OpenResponse {
  response: Response;
  requestId: string;
}

/** An answer whose body is still to be read; `done` stops the attempt's timeout. */
interface Answer {
  response: Response;
  requestId: string;
  signal: AbortSignal;
  done: () => void;
}

/** Reads a successful answer. */
type ReadAnswer<T> = (answer: Answer) => Promise<T>;

const DEFAULT_TIMEOUT_MS = 30_000;

/** Sends requests: credential, request id, timeout, retries, and one error type for every failure. */
export class HttpPipeline {
  readonly baseUrl: string;
  readonly credential: TokenCredential | undefined;
  readonly #retry: ResolvedRetryOptions;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #closed = new AbortController();

  /** Makes a pipeline; the base URL loses any trailing slash. */
  constructor(options: HttpPipelineOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.credential = options.credential;
    this.#retry = resolveRetryOptions(options.retry);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The resolved retry policy (realtime reconnects use the same backoff). */
  get retry(): ResolvedRetryOptions {
    return this.#retry;
  }

  /** Aborts every request in flight and refuses new ones. */
  close(): void {
    this.#closed.abort(new Error('The client has been closed'));
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed.signal.aborted;
  }

  /** Sends a request, retrying per the policy; resolves to the parsed JSON body (undefined for 204). */
  send<T>(spec: RequestSpec): Promise<T> {
    return this.#run(spec, async (answer) => {
      const { response, requestId } = answer;
      const text = await readText(answer);
      if (text === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new ParleyApiError({ code: 'internal', status: response.status, message: 'The server answered with invalid JSON', requestId, cause: err });
      }
    });
  }

  /**
   * Sends a request like {@link send} and resolves once the answer's headers are in, leaving its body
   * to be streamed by the caller. The per-attempt timeout covers the wait for the headers, not the body.
   */
  open(spec: RequestSpec): Promise<OpenResponse> {
    return this.#run(spec, async ({ response, requestId, done }) => {
      done();
      return { response, requestId };
    });
  }

  async #run<T>(spec: RequestSpec, read: ReadAnswer<T>): Promise<T> {
    const signal = spec.signal ? AbortSignal.any([spec.signal, this.#closed.signal]) : this.#closed.signal;
    // A stream is consumed by the first attempt: there is nothing left to send again.
    const replayable = !(spec.rawBody?.data instanceof ReadableStream);
    let refreshed = false;
    let forceRefresh = false;
    for (let attempt = 1; ; attempt += 1) {
      signal.throwIfAborted();
      try {
        const force = forceRefresh;
        forceRefresh = false;
        return await this.#attempt(spec, { signal, forceRefresh: force }, read);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (!isParleyApiError(err) || !replayable) throw err;
        // A DELETE that is retried after its first attempt did succeed finds nothing left: that is success.
        if (attempt > 1 && spec.method === 'DELETE' && err.code === 'not_found') return undefined as T;
        if (err.code === 'unauthenticated' && !refreshed && this.credential && spec.authenticate !== false) {
          // The token may have been revoked or have expired early: get a new one, once.
          refreshed = true;
          forceRefresh = true;
          attempt -= 1;
          continue;
        }
        if (attempt >= this.#retry.maxAttempts || !isRetryable(err, spec.repeatable)) throw err;
        const delay = Math.max(retryDelay(this.#retry, attempt), err.retryAfterMs ?? 0);
        await sleep(delay, signal);
      }
    }
  }

  async #attempt<T>(spec: RequestSpec, { signal, forceRefresh }: { signal: AbortSignal; forceRefresh: boolean }, read: ReadAnswer<T>): Promise<T> {
    const requestId = randomId();
    const headers: Record<string, string> = { accept: 'application/json', 'x-request-id': requestId, ...spec.headers };
    if (this.credential && spec.authenticate !== false) {
      const token = await this.credential.getToken({ signal, forceRefresh });
      headers['authorization'] = `Bearer ${token.token}`;
    }
    let body: string | RawBody['data'] | undefined;
    if (spec.rawBody !== undefined) {
      headers['content-type'] = spec.rawBody.contentType;
      body = spec.rawBody.data;
    } else if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.body);
    }
    // Not AbortSignal.timeout: the timer must stop once a download's headers are in, or it would cut the body.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException('The operation timed out', 'TimeoutError')), this.#timeoutMs);
    const done = () => clearTimeout(timer);
    let response: Response;
    try {
      const init: RequestInit & { duplex?: 'half' } = {
        method: spec.method,
        headers,
        ...(body !== undefined ? { body: body as NonNullable<RequestInit['body']> } : {}),
        // Fetch sends a stream body only in half-duplex mode (required by Node, and by browsers over HTTP/2).
        ...(body instanceof ReadableStream ? { duplex: 'half' as const } : {}),
        signal: AbortSignal.any([signal, timeout.signal]),
      };
      response = await this.#fetch(this.#url(spec), init);
    } catch (err) {
      done();
      if (signal.aborted) throw signal.reason;
      throw new ParleyApiError({ code: 'network_error', status: 0, message: `Request failed: ${describe(err)}`, requestId, cause: err });
    }
    const answeredId = response.headers.get('x-request-id') ?? requestId;
    const answer = { response, requestId: answeredId, signal, done };
    if (!response.ok) throw errorFrom(response, await readText(answer), answeredId);
    return read(answer);
  }

  #url(spec: RequestSpec): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (Array.isArray(value)) for (const item of value as readonly string[]) params.append(key, item);
      else if (value !== undefined) params.set(key, String(value));
    }
    const query = params.toString();
    return `${this.baseUrl}${spec.path}${query === '' ? '' : `?${query}`}`;
  }
}

/** An answer's whole body as text; then the attempt's timeout stops. */
async function readText({ response, requestId, signal, done }: Answer): Promise<string> {
  try {
    return await response.text();
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new ParleyApiError({ code: 'network_error', status: response.status, message: `Reading the answer failed: ${describe(err)}`, requestId, cause: err });
  } finally {
    done();
  }
}

function errorFrom(response: Response, text: string, requestId: string): ParleyApiError {
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  let body: Partial<ErrorBody> | undefined;
  try {
    body = JSON.parse(text) as Partial<ErrorBody>;
  } catch {
    body = undefined;
  }
  const error = body?.error;
  const common = { status: response.status, requestId, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ParleyApiError({
      ...common,
      code: error.code,
      message: error.message,
      ...(error.target !== undefined ? { target: error.target } : {}),
      ...(error.details !== undefined ? { details: error.details } : {}),
    });
  }
  // Not our error body: a proxy or load balancer answered.
  return new ParleyApiError({ ...common, code: codeForStatus(response.status), message: `HTTP ${response.status} ${response.statusText}`.trim() });
}

function codeForStatus(status: number): ParleyApiError['code'] {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'limit_exceeded';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'internal';
  return 'bad_request';
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

/** Waits, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A random id for idempotency keys and request ids. `crypto.getRandomValues` exists everywhere,
 * unlike `crypto.randomUUID`, which browsers offer only on secure (https) pages.
 */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
