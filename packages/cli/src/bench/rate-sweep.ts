export interface RateSweepOptions {
  startRate: number;
  /** Most steps in all (the first included). */
  maxSteps: number;
  /** Stop bisecting when (fail - pass) / fail is at most this. */
  precision?: number;
  /** Growth while passing. */
  factor?: number;
}

/**
 * Finds the highest rate that passes (p99 under the bound, nothing lost) in a bounded number of steps:
 * multiply the rate while it passes, then bisect between the last pass and the first failure until the
 * gap is within `precision` of the failing rate, or the steps run out.
 */
export class RateSweep {
  #pass: number | undefined;
  #fail: number | undefined;
  #steps = 0;
  #next: number | undefined;
  readonly #precision: number;
  readonly #factor: number;

  constructor(private readonly options: RateSweepOptions) {
    if (!(options.startRate > 0) || options.maxSteps < 1) throw new RangeError('a sweep needs a positive start rate and at least one step');
    this.#precision = options.precision ?? 0.05;
    this.#factor = options.factor ?? 2;
    this.#next = options.startRate;
  }

  /** The rate to try next, or undefined when the sweep is over. */
  next(): number | undefined {
    return this.#next;
  }

  /** Records the outcome of the step at `rate` (the one {@link next} gave) and picks the next rate. */
  record(rate: number, passed: boolean): void {
    this.#steps += 1;
    if (passed) this.#pass = Math.max(this.#pass ?? 0, rate);
    else this.#fail = Math.min(this.#fail ?? Number.POSITIVE_INFINITY, rate);
    this.#next = this.#choose();
  }

  /** The highest rate that passed, if any did. */
  get sustainable(): number | undefined {
    return this.#pass;
  }

  get steps(): number {
    return this.#steps;
  }

  #choose(): number | undefined {
    if (this.#steps >= this.options.maxSteps) return undefined;
    const pass = this.#pass ?? 0;
    if (this.#fail === undefined) return Math.round(pass * this.#factor);
    if ((this.#fail - pass) / this.#fail <= this.#precision) return undefined;
    const mid = Math.round((pass + this.#fail) / 2);
    return mid > pass && mid < this.#fail ? mid : undefined;
  }
}
