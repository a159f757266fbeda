import { RateLimitedError } from '../domain/index.js';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key: `burst` at once, then `ratePerSecond` sustained. In memory, per process: with
 * several processes a user's effective rate is at most N times this, which is what a chat rate limit
 * needs (a ceiling on abuse, not an exact quota).
 */
export class TokenBucketLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: () => number,
  ) {}

  /** Takes a token for `key`, or throws `rate_limited` saying when one will be there. */
  take(key: string, what = 'messages'): void {
    const now = this.clock();
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      const retryAfterMs = Math.ceil(((1 - bucket.tokens) / this.ratePerSecond) * 1000);
      this.#buckets.set(key, bucket);
      throw new RateLimitedError(`Too many ${what}: at most ${this.ratePerSecond} per second`, retryAfterMs);
    }
    bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > 10_000) this.#prune(now);
  }

  /** Forgets buckets that have refilled: they hold no information. */
  #prune(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.#buckets.delete(key);
    }
  }
}
