import { ERROR_CODES, type ErrorBody } from '@parley/protocol';
import { CliError } from './cli-error.js';
import type { AdminConnection } from './admin-connection.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof error.message === 'string' &&
    (ERROR_CODES as readonly unknown[]).includes(error.code)
  );
}

/** The cause a failed `fetch` wraps (undici puts the socket error, e.g. ECONNREFUSED, in `cause`). */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Speaks to a running server's REST API with the admin key. Every failure becomes a {@link CliError}
 * whose message is what the user should read: the server's own error message and code, or why the
 * server could not be reached.
 */
export class AdminClient {
  readonly #connection: AdminConnection;

  constructor(connection: AdminConnection) {
    this.#connection = connection;
  }

  get url(): string {
    return this.#connection.url;
  }

  /** Sends one request; resolves to the parsed JSON body, or `undefined` for 204 No Content. */
  async request<T>(method: Method, path: string, body?: unknown): Promise<T | undefined> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#connection.adminKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.#connection.url + path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      const cause = networkCause(err);
      throw new CliError(
        cause === 'ECONNREFUSED'
          ? `cannot reach the Parley server at ${this.url}: is it running? (npm start)`
          : `cannot reach the Parley server at ${this.url}: ${cause}`,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      if (isErrorBody(parsed)) throw new CliError(`${parsed.error.message} (${parsed.error.code})`);
      // Not a Parley answer: a proxy, or something else listening on that port.
      throw new CliError(`${this.url} answered HTTP ${res.status} ${res.statusText} to ${method} ${path}: is it a Parley server?`);
    }
    if (res.status === 204) return undefined;
    if (parsed === undefined) throw new CliError(`${this.url} answered ${method} ${path} without a JSON body: is it a Parley server?`);
    return parsed as T;
  }

  /** Like {@link AdminClient.request} for endpoints that always answer with a body. */
  async requestJson<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const result = await this.request<T>(method, path, body);
    if (result === undefined) throw new CliError(`${this.url} answered ${method} ${path} with no content`);
    return result;
  }
}
