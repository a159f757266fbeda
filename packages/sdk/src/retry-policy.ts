import { RETRYABLE_CODES } from '@parley/protocol';
import { isParleyApiError } from './parley-api-error.js';

/**
 * When and how often a failed request is tried again. Network errors, `429 rate_limited` (after the
 * server's `Retry-After`) and 5xx answers are retried; a request that is not idempotent and carries no
 * idempotency key is retried only after a 429, which the server answers before doing anything.
 */
export interface RetryOptions {
  /** Attempts in all, the first included (default 4; 1 disables retries). */
  maxAttempts?: number;
  /** Delay before the first retry, in milliseconds (default 500). */
  initialDelayMs?: number;
  /** Factor applied to the delay after each retry (default 2). */
  multiplier?: number;
  /** Longest delay between two attempts, in milliseconds (default 30 000). */
  maxDelayMs?: number;
  /**
   * Randomisation of each delay, from 0 (none) to 1: a delay `d` becomes a random value in
   * `[d × (1 − jitter), d]` (default 0.5), so that many clients do not retry in step.
   */
  jitter?: number;
}

/** A {@link RetryOptions} with every field set. */
export type ResolvedRetryOptions = Required<RetryOptions>;

/** The defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY_OPTIONS: Readonly<ResolvedRetryOptions> = Object.freeze({
  maxAttempts: 4,
  initialDelayMs: 500,
  multiplier: 2,
  maxDelayMs: 30_000,
  jitter: 0.5,
});

/** Fills in defaults and checks the values. */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const resolved = { ...DEFAULT_RETRY_OPTIONS, ...stripUndefined(options) };
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1) throw new RangeError('retry.maxAttempts must be an integer >= 1');
  if (resolved.initialDelayMs < 0 || resolved.maxDelayMs < 0) throw new RangeError('retry delays must be >= 0');
  if (resolved.multiplier < 1) throw new RangeError('retry.multiplier must be >= 1');
  if (resolved.jitter < 0 || resolved.jitter > 1) throw new RangeError('retry.jitter must be between 0 and 1');
  return resolved;
}

/** The pause before retry number `retry` (1 for the first retry), in milliseconds. */
export function retryDelay(options: ResolvedRetryOptions, retry: number): number {
  const exponential = Math.min(options.maxDelayMs, options.initialDelayMs * options.multiplier ** (retry - 1));
  return exponential * (1 - options.jitter * Math.random());
}

/** Whether a failed attempt may be tried again, given whether repeating the request is safe. */
export function isRetryable(error: unknown, repeatable: boolean): boolean {
  if (!isParleyApiError(error)) return false;
  if (error.code === 'rate_limited') return true;
  if (!repeatable) return false;
  return error.code === 'network_error' || error.status >= 500 || RETRYABLE_CODES.includes(error.code as never);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
