import { describe, expect, it } from 'vitest';
import { nextAttemptAt } from './webhook-retry.js';

describe('nextAttemptAt', () => {
  const schedule = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 6000 };

  it('doubles the delay after each failure, capped, without jitter when random is 0', () => {
    expect([1, 2, 3, 4].map((n) => nextAttemptAt(schedule, n, 0, 0))).toEqual([1000, 2000, 4000, 6000]);
  });

  it('subtracts at most 20% jitter', () => {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const at = nextAttemptAt(schedule, 3, 100, r)!;
      expect(at).toBeGreaterThan(100 + 4000 * 0.8 - 1);
      expect(at).toBeLessThanOrEqual(100 + 4000);
    }
  });

  it('gives up after maxAttempts', () => {
    expect(nextAttemptAt(schedule, 5, 0, 0)).toBeNull();
    expect(nextAttemptAt(schedule, 9, 0, 0)).toBeNull();
  });

  it('stays finite for huge attempt counts below the maximum', () => {
    expect(nextAttemptAt({ ...schedule, maxAttempts: 10_000 }, 5000, 0, 0)).toBe(6000);
  });
});
