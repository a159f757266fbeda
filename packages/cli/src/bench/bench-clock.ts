/**
 * Wall-clock milliseconds with sub-millisecond resolution, on the same scale in every worker thread
 * (each thread has its own `timeOrigin`, but origin + elapsed is the same instant everywhere), so a due
 * time stamped by one thread can be subtracted from a receipt time taken by another.
 */
export function benchNow(): number {
  return performance.timeOrigin + performance.now();
}
