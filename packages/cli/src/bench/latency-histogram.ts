// Bucket i holds values in [GROWTH^i, GROWTH^(i+1)) microseconds; bucket 0 also holds everything below 1 µs.
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
// 1.01^2600 µs is about two days: far beyond any step and drain.
const BUCKETS = 2600;

/** The histogram as plain data, to cross a worker-thread boundary (`postMessage`) or be stored. */
export interface HistogramSnapshot {
  /** `[bucketIndex, count]` for every non-empty bucket. */
  buckets: [number, number][];
  count: number;
  minMicros: number;
  maxMicros: number;
  sumMicros: number;
}

/**
 * A log-bucketed latency histogram in the spirit of HdrHistogram: every bucket is at most 1% wide
 * relative to its value, so any percentile is reported within 1% of the true sample, whatever the
 * range (1 µs to two days) — in a fixed 2,600-slot array, so recording allocates nothing and histograms
 * of several generator threads merge by adding their counts.
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;
  #sum = 0;

  /** Adds one sample, in milliseconds (fractions allowed; negative clock skew counts as 0). */
  recordMs(ms: number): void {
    this.recordMicros(ms * 1000);
  }

  recordMicros(raw: number): void {
    const micros = raw > 0 ? raw : 0;
    const index = micros < 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(micros) / LOG_GROWTH));
    this.#counts[index] = (this.#counts[index] ?? 0) + 1;
    this.#count += 1;
    this.#sum += micros;
    if (micros < this.#min) this.#min = micros;
    if (micros > this.#max) this.#max = micros;
  }

  get count(): number {
    return this.#count;
  }

  get maxMs(): number {
    return this.#max / 1000;
  }

  get meanMs(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count / 1000;
  }

  /**
   * The value at percentile `p` (0–100) in milliseconds: the smallest sample bound such that at least
   * p% of the samples are at or below it, within the bucket precision, never above the true maximum.
   * 0 for an empty histogram.
   */
  percentileMs(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.#count));
    // The largest sample is known exactly.
    if (rank >= this.#count) return this.maxMs;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) {
        // The bucket's midpoint (geometric) is within 0.5% of any value in it; clamp to what was seen.
        const mid = i === 0 && this.#min < 1 ? this.#min : Math.pow(GROWTH, i + 0.5);
        return Math.min(this.#max, Math.max(this.#min, mid)) / 1000;
      }
    }
    return this.maxMs;
  }

  /** Adds another histogram's samples to this one. */
  merge(other: LatencyHistogram | HistogramSnapshot): this {
    const snap = other instanceof LatencyHistogram ? other.snapshot() : other;
    for (const [index, n] of snap.buckets) this.#counts[index] = (this.#counts[index] ?? 0) + n;
    if (snap.count > 0) {
      this.#count += snap.count;
      this.#sum += snap.sumMicros;
      this.#min = Math.min(this.#min, snap.minMicros);
      this.#max = Math.max(this.#max, snap.maxMicros);
    }
    return this;
  }

  snapshot(): HistogramSnapshot {
    const buckets: [number, number][] = [];
    this.#counts.forEach((n, i) => {
      if (n > 0) buckets.push([i, n]);
    });
    return { buckets, count: this.#count, minMicros: this.#count === 0 ? 0 : this.#min, maxMicros: this.#max, sumMicros: this.#sum };
  }

  static from(snapshot: HistogramSnapshot): LatencyHistogram {
    return new LatencyHistogram().merge(snapshot);
  }
}
