/** An access token and when it stops working. */
export interface AccessToken {
  /** The token, sent as `Authorization: Bearer <token>`. */
  token: string;
  /** When it expires, in milliseconds since the epoch (`Infinity` when it does not). */
  expiresOnTimestamp: number;
}

/** Options of {@link TokenCredential.getToken}. */
export interface GetTokenOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
  /** Get a new token even if the current one looks valid (the server refused it). */
  forceRefresh?: boolean;
}

/**
 * Where the client gets its access token from, before each request and each realtime connection.
 * Implement it to plug in your own token source, or use {@link StaticTokenCredential},
 * {@link RefreshingTokenCredential} or {@link ApiKeyCredential}.
 */
export interface TokenCredential {
  /** A token valid now. Called often: cache and refresh inside. */
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** Stops background refreshes. */
  dispose?(): void;
}

/** The expiry of a JWT from its `exp` claim, or `Infinity` for anything else (e.g. an API key). */
export function tokenExpiry(token: string): number {
  const parts = token.split('.');
  if (parts.length !== 3) return Number.POSITIVE_INFINITY;
  try {
    const json = atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * A fixed token or API key, used as it is. When it expires or is revoked, requests fail with
 * `unauthenticated`; use {@link RefreshingTokenCredential} to renew it instead.
 */
export class StaticTokenCredential implements TokenCredential {
  readonly #token: AccessToken;

  /** @param token - an access token (JWT) or an API key */
  constructor(token: string) {
    if (token === '') throw new TypeError('The token must not be empty');
    this.#token = { token, expiresOnTimestamp: tokenExpiry(token) };
  }

  /** The token given to the constructor. */
  async getToken(): Promise<AccessToken> {
    return this.#token;
  }
}

/** Options of {@link RefreshingTokenCredential}. */
export interface RefreshingTokenCredentialOptions {
  /**
   * Gets a new token: a JWT string (its expiry is read from its `exp` claim) or an {@link AccessToken}.
   * Called when the current token is missing, about to expire, or refused by the server.
   */
  tokenRefresher: (signal?: AbortSignal) => Promise<string | AccessToken>;
  /** A token to start with, so the first request need not wait for the refresher. */
  token?: string;
  /** Refresh this long before expiry, in milliseconds (default 2 minutes, capped at half the token's lifetime). */
  refreshBeforeExpiryMs?: number;
  /**
   * Refresh in the background ahead of expiry, so no request ever waits for a refresh (default false:
   * refresh on demand, when a request needs a token).
   */
  refreshProactively?: boolean;
}

const DEFAULT_REFRESH_BEFORE_MS = 2 * 60 * 1000;

/**
 * A token that renews itself before it expires, like Azure's `CommunicationTokenCredential` with a
 * `tokenRefresher`. Concurrent callers share one refresh.
 *
 * @example
 * ```ts
 * const credential = new RefreshingTokenCredential({
 *   tokenRefresher: async () => (await fetch('/my-backend/parley-token')).text(),
 *   refreshProactively: true,
 * });
 * const client = new ParleyClient({ baseUrl, credential });
 * ```
 */
export class RefreshingTokenCredential implements TokenCredential {
  readonly #refresher: RefreshingTokenCredentialOptions['tokenRefresher'];
  readonly #before: number;
  readonly #proactive: boolean;
  #current: { token: AccessToken; issuedAt: number } | undefined;
  #refreshing: Promise<AccessToken> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  /** Makes a credential that calls `options.tokenRefresher` whenever it needs a token. */
  constructor(options: RefreshingTokenCredentialOptions) {
    this.#refresher = options.tokenRefresher;
    this.#before = options.refreshBeforeExpiryMs ?? DEFAULT_REFRESH_BEFORE_MS;
    this.#proactive = options.refreshProactively ?? false;
    if (options.token !== undefined) this.#set({ token: options.token, expiresOnTimestamp: tokenExpiry(options.token) });
  }

  /** The current token, refreshed first when it is missing, about to expire or `forceRefresh` is set. */
  async getToken(options: GetTokenOptions = {}): Promise<AccessToken> {
    if (this.#disposed) throw new Error('The credential has been disposed');
    const current = this.#current;
    if (current && !options.forceRefresh && Date.now() < this.#refreshAt(current)) return current.token;
    return this.#refresh(options.signal);
  }

  /** Stops the background refresh. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #refresh(signal?: AbortSignal): Promise<AccessToken> {
    this.#refreshing ??= (async () => {
      try {
        const got = await this.#refresher(signal);
        const token = typeof got === 'string' ? { token: got, expiresOnTimestamp: tokenExpiry(got) } : got;
        this.#set(token);
        return token;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  #refreshAt(current: { token: AccessToken; issuedAt: number }): number {
    const lifetime = current.token.expiresOnTimestamp - current.issuedAt;
    return current.token.expiresOnTimestamp - Math.min(this.#before, lifetime / 2);
  }

  #set(token: AccessToken): void {
    this.#current = { token, issuedAt: Date.now() };
    if (!this.#proactive || this.#disposed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const delay = this.#refreshAt(this.#current) - Date.now();
    if (!Number.isFinite(delay)) return;
    // setTimeout cannot wait longer than ~24.8 days; such a token is refreshed on demand instead.
    if (delay > 2 ** 31 - 1) return;
    this.#timer = setTimeout(() => void this.#refresh().catch(() => undefined), Math.max(0, delay));
    unrefTimer(this.#timer);
  }
}

/** Lets Node exit while a timer is pending (browsers have no such notion). */
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
