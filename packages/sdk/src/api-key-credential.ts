import type { IssueTokenRequest, TokenResult } from '@parley/protocol';
import { HttpPipeline } from './http-pipeline.js';
import type { RetryOptions } from './retry-policy.js';
import { RefreshingTokenCredential, StaticTokenCredential } from './token-credential.js';

/** Options of {@link ApiKeyCredential}. */
export interface ApiKeyCredentialOptions extends IssueTokenRequest {
  /** The server that issued the key. */
  baseUrl: string;
  /** The API key (shown once when it was made). */
  apiKey: string;
  /** Refresh this long before expiry, in milliseconds (default 2 minutes). */
  refreshBeforeExpiryMs?: number;
  /** Refresh in the background ahead of expiry (default false: on demand). */
  refreshProactively?: boolean;
  /** The retry policy of the exchange requests. */
  retry?: RetryOptions;
}

/**
 * A bot's credential: exchanges the API key for a short-lived access token (`POST /v1/auth/token`) and
 * exchanges it again before the token expires, so the key itself travels once per token lifetime.
 *
 * @example
 * ```ts
 * const credential = new ApiKeyCredential({ baseUrl, apiKey: process.env.PARLEY_BOT_KEY! });
 * const bot = new ParleyClient({ baseUrl, credential });
 * ```
 */
export class ApiKeyCredential extends RefreshingTokenCredential {
  /** Makes the credential; the first exchange happens when the first token is needed. */
  constructor(options: ApiKeyCredentialOptions) {
    const pipeline = new HttpPipeline({
      baseUrl: options.baseUrl,
      credential: new StaticTokenCredential(options.apiKey),
      retry: options.retry,
    });
    const body: IssueTokenRequest = {
      ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
      ...(options.expiresInSeconds !== undefined ? { expiresInSeconds: options.expiresInSeconds } : {}),
    };
    super({
      tokenRefresher: async (signal) => {
        const result = await pipeline.send<TokenResult>({ method: 'POST', path: '/v1/auth/token', body, repeatable: true, signal });
        return { token: result.token, expiresOnTimestamp: Date.parse(result.expiresAt) };
      },
      ...(options.refreshBeforeExpiryMs !== undefined ? { refreshBeforeExpiryMs: options.refreshBeforeExpiryMs } : {}),
      ...(options.refreshProactively !== undefined ? { refreshProactively: options.refreshProactively } : {}),
    });
  }
}
