/**
 * bench/: `parley bench`. The open-loop load generator (worker threads of WebSocket members, a
 * log-bucketed latency histogram, a delivery ledger for loss and duplicates), the baseline fan-out
 * server it is compared with, the targets it starts (Parley, pinned, on SQLite or PostgreSQL + Redis)
 * and the scenarios. Imports the server only to start it and, for the history scenario, to fill a store
 * through its own send path. The method is in docs/benchmarks.md.
 */
export { runBench, assertLoopback, SCENARIOS, type BenchOptions, type BenchOutput, type BenchResult, type Scenario } from './run-bench.js';
export type { HistoryRow, IdleRow, StepRow, SweepSummaryRow } from './bench-report.js';
export { LatencyHistogram, type HistogramSnapshot } from './latency-histogram.js';
export { OpenLoopSchedule, runOpenLoop, type OpenLoopPlan, type OpenLoopRun } from './open-loop-schedule.js';
export { DeliveryLedger, countLoss, type LossCount } from './delivery-ledger.js';
export { RateSweep, type RateSweepOptions } from './rate-sweep.js';
export { startBaselineServer, type BaselineServer, type BaselineOptions } from './baseline-server.js';
export { benchContent, parseBenchMarker } from './generator-shard.js';
export { BenchGenerator, type GeneratorOptions, type StepMeasurement, type StepOptions } from './bench-generator.js';
export type { BenchMember } from './generator-protocol.js';
