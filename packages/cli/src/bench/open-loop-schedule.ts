/** One step's load: `ratePerSecond` over `senders` members, for a warm-up and a measured window. */
export interface OpenLoopPlan {
  /** Messages per second, over all members. */
  ratePerSecond: number;
  /** Sent and delivered like the rest, but not measured. */
  warmupMs: number;
  /** The measured window, after the warm-up. */
  durationMs: number;
  /** How many members send, numbered 0…senders-1. */
  senders: number;
}

/**
 * The open-loop send schedule. Message `i` of a step is due at `i / rate` seconds after the step starts
 * and is sent by member `i mod members`, so the total rate is spread evenly over every member (and, with
 * members numbered room by room in turn, over every room). Each send goes out at its due time whether or
 * not earlier ones were answered: a server that stalls cannot slow the offered load down, and latency is
 * measured from the due time, so the stall shows in full (no coordinated omission).
 */
export class OpenLoopSchedule {
  readonly total: number;
  readonly #intervalMs: number;

  constructor(readonly plan: OpenLoopPlan) {
    if (!(plan.ratePerSecond > 0) || !(plan.senders >= 1) || plan.warmupMs < 0 || plan.durationMs <= 0) {
      throw new RangeError('an open-loop plan needs a positive rate, duration and number of senders');
    }
    this.#intervalMs = 1000 / plan.ratePerSecond;
    // Every message due strictly before the end of the window.
    this.total = Math.ceil(((plan.warmupMs + plan.durationMs) * plan.ratePerSecond) / 1000 - 1e-9);
  }

  /** When message `i` is due, in ms after the step's start. */
  offsetMs(i: number): number {
    return i * this.#intervalMs;
  }

  senderOf(i: number): number {
    return i % this.plan.senders;
  }

  /** Whether message `i` falls in the measured window (after the warm-up). */
  isMeasured(i: number): boolean {
    return this.offsetMs(i) >= this.plan.warmupMs;
  }

  /** The messages members `from`…`to - 1` send, in due order. */
  indicesFor(from: number, to: number): Uint32Array {
    const { senders } = this.plan;
    const out: number[] = [];
    for (let base = 0; base < this.total; base += senders) {
      for (let k = from; k < to && base + k < this.total; k += 1) out.push(base + k);
    }
    return Uint32Array.from(out);
  }
}

export interface OpenLoopRun {
  /** Sends made (all of them once the promise resolves). */
  sent: number;
  /** How late the latest send left compared with its due time: the generator's own lag. */
  maxLagMs: number;
}

/**
 * Calls `fire(k)` for every `k` at `dueAt[k]` (ascending, on `clock`'s scale), catching up at once on
 * whatever is overdue, and never waiting for anything `fire` started. Resolves when the last one fired.
 */
export function runOpenLoop(dueAt: ArrayLike<number>, fire: (k: number) => void, clock: () => number): Promise<OpenLoopRun> {
  return new Promise((resolve, reject) => {
    let k = 0;
    let maxLagMs = 0;
    const tick = (): void => {
      try {
        const now = clock();
        for (; k < dueAt.length && (dueAt[k] ?? 0) <= now; k += 1) {
          maxLagMs = Math.max(maxLagMs, now - (dueAt[k] ?? 0));
          fire(k);
        }
        if (k >= dueAt.length) {
          resolve({ sent: k, maxLagMs });
          return;
        }
        // Timers fire no earlier than asked and at millisecond grain: wake on the due millisecond.
        setTimeout(tick, Math.max(0, Math.floor((dueAt[k] ?? 0) - clock())));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    tick();
  });
}
