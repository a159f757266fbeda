import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '@parley/cli';

/** The exact percentile of sorted samples, by the same rank rule (smallest value with >= p% at or below it). */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

// A deterministic pseudo-random sequence (mulberry32), so every run checks the same samples.
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PERCENTILES = [1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100];

describe('LatencyHistogram', () => {
  it('reports the percentiles of a uniform distribution within 1%', () => {
    const h = new LatencyHistogram();
    // 1 µs … 100 ms, every microsecond once.
    for (let us = 1; us <= 100_000; us += 1) h.recordMicros(us);
    expect(h.count).toBe(100_000);
    for (const p of PERCENTILES) {
      const exact = (p / 100) * 100_000;
      expect(Math.abs(h.percentileMs(p) * 1000 - exact) / exact, `p${p}`).toBeLessThanOrEqual(0.01);
    }
    expect(h.maxMs).toBe(100);
    expect(h.percentileMs(100)).toBe(100);
    expect(h.meanMs).toBeCloseTo(50.0005, 6);
  });

  it('reports the percentiles of a long-tailed distribution within 1% of the exact ones', () => {
    const next = random(42);
    const samples = Array.from({ length: 50_000 }, () => -Math.log(1 - next()) * 5 + (next() < 0.01 ? 900 * next() : 0));
    const h = new LatencyHistogram();
    for (const ms of samples) h.recordMs(ms);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const p of PERCENTILES) {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(h.percentileMs(p) - exact) / exact, `p${p}`).toBeLessThanOrEqual(0.01);
    }
    expect(h.maxMs).toBeCloseTo(sorted.at(-1) as number, 9);
  });

  it('merges histograms, directly or through a snapshot sent to another thread, into the histogram of all samples', () => {
    const next = random(7);
    const samples = Array.from({ length: 30_000 }, () => next() * next() * 400);
    const whole = new LatencyHistogram();
    const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    samples.forEach((ms, i) => {
      whole.recordMs(ms);
      parts[i % 3]?.recordMs(ms);
    });
    const direct = new LatencyHistogram();
    for (const part of parts) direct.merge(part);
    // structuredClone is what postMessage does to a snapshot.
    const viaSnapshots = LatencyHistogram.from(structuredClone(parts[0]!.snapshot()))
      .merge(structuredClone(parts[1]!.snapshot()))
      .merge(structuredClone(parts[2]!.snapshot()));
    for (const merged of [direct, viaSnapshots]) {
      expect(merged.count).toBe(whole.count);
      expect(merged.maxMs).toBe(whole.maxMs);
      expect(merged.meanMs).toBeCloseTo(whole.meanMs, 9);
      for (const p of PERCENTILES) expect(merged.percentileMs(p)).toBe(whole.percentileMs(p));
    }
    expect(parts[0]!.count + parts[1]!.count + parts[2]!.count).toBe(30_000);
  });

  it('is empty at first, and merging an empty one changes nothing', () => {
    const h = new LatencyHistogram();
    expect([h.count, h.percentileMs(50), h.percentileMs(99), h.maxMs, h.meanMs]).toEqual([0, 0, 0, 0, 0]);
    h.recordMs(12);
    h.merge(new LatencyHistogram());
    expect(h.count).toBe(1);
    expect(h.percentileMs(50)).toBe(12);
    expect(h.snapshot().minMicros).toBe(12_000);
  });

  it('counts sub-microsecond and negative samples (clock skew between threads) as zero', () => {
    const h = new LatencyHistogram();
    h.recordMs(-3);
    h.recordMicros(0.25);
    h.recordMs(10);
    expect(h.count).toBe(3);
    expect(h.percentileMs(50)).toBe(0);
    expect(h.percentileMs(100)).toBe(10);
  });

  it('keeps its precision for stalls of minutes', () => {
    const h = new LatencyHistogram();
    h.recordMs(1);
    h.recordMs(180_000);
    expect(Math.abs(h.percentileMs(99) - 180_000) / 180_000).toBeLessThanOrEqual(0.01);
    expect(h.maxMs).toBe(180_000);
  });
});
