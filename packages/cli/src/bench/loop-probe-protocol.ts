// The messages between the bench and the event-loop probe in a server process (event-loop-probe.ts).

export type LoopProbeRequest = { type: 'loop-probe:reset' } | { type: 'loop-probe:read'; id: number };

/** A server's event loop over the measured window. */
export interface LoopStats {
  /** How late timers fired (the loop's lag behind its schedule): p99 and worst, ms. */
  delayP99Ms: number;
  delayMaxMs: number;
  /** The share of the window the loop spent running callbacks rather than waiting (0 to 1). */
  utilization: number;
}

export type LoopProbeReply = { type: 'loop-probe:stats'; id: number } & LoopStats;

/** Set in a server's environment, the probe profiles the CPU over each measured window into this directory. */
export const WINDOW_PROFILE_DIR_ENV = 'BENCH_WINDOW_PROFILE_DIR';

/** The environment that asks a server's probe for window profiles in `dir` (none without a directory). */
export function windowProfileEnv(dir: string | undefined): Record<string, string> {
  return dir !== undefined ? { [WINDOW_PROFILE_DIR_ENV]: dir } : {};
}
