/** How a failed webhook delivery is retried. */
export interface RetrySchedule {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * When the next attempt after `attempts` failed ones is due, or null when the delivery is dead. Exponential
 * (base × 2^(attempts−1), capped), with up to 20% jitter subtracted so that a burst of failures does not
 * retry in lockstep; `random` is in [0, 1).
 */
export function nextAttemptAt(schedule: RetrySchedule, attempts: number, now: number, random: number): number | null {
  if (attempts >= schedule.maxAttempts) return null;
  const exp = Math.min(schedule.maxDelayMs, schedule.baseDelayMs * 2 ** Math.min(attempts - 1, 40));
  return now + Math.max(0, Math.round(exp * (1 - 0.2 * random)));
}
