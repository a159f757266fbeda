import { ParleyError } from '@parley/protocol';

export { ParleyError };

export const notFound = (what: string, target?: string): ParleyError =>
  new ParleyError('not_found', `${what} not found`, target);
export const forbidden = (message: string, target?: string): ParleyError => new ParleyError('forbidden', message, target);
export const badRequest = (message: string, target?: string): ParleyError =>
  new ParleyError('bad_request', message, target);
export const conflict = (message: string, target?: string): ParleyError => new ParleyError('conflict', message, target);
/** Too many requests: carries when to try again (HTTP answers it with Retry-After). */
export class RateLimitedError extends ParleyError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super('rate_limited', message, undefined, [{ code: 'retry_after_ms', message: String(retryAfterMs) }]);
  }
}

export const limitExceeded = (message: string, target?: string): ParleyError =>
  new ParleyError('limit_exceeded', message, target);
