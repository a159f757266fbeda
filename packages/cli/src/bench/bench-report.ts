import { formatTable } from '../format-table.js';
import type { StepMeasurement } from './bench-generator.js';

/** `parley-postgres` is Parley on PostgreSQL beside Parley on SQLite (`parley`), in a run of --store both. */
export type TargetName = 'parley' | 'parley-postgres' | 'baseline';

/** The conditions a row was measured under, repeated on every row so each JSON line stands alone. */
export interface RunConditions {
  scenario: string;
  rooms: number;
  members: number;
  /** Parley's store; `unknown` for a server given with --url. */
  store: 'sqlite' | 'postgres' | 'unknown';
  processes: number;
  /** e.g. "server cpu 0, generator cpu 1", or "no". */
  pinned: string;
  threads: number;
}

/** One step (`--json` prints one per line). Rates are per second; times in ms; memory in MiB. */
export interface StepRow extends RunConditions {
  kind: 'step';
  target: TargetName;
  step: number;
  offered_rate: number;
  /** Sends the server acknowledged during the measured window, per second. */
  achieved_rate: number;
  /** Sends the generator made during the measured window, per second. */
  sent_rate: number;
  deliveries_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  /** Latency samples: deliveries of messages due in the measured window. */
  samples: number;
  expected_deliveries: number;
  delivered: number;
  lost: number;
  duplicated: number;
  misrouted: number;
  stray: number;
  send_errors: number;
  first_error: string | null;
  disconnects: number;
  server_rss_mb: number | null;
  server_cpu_pct: number | null;
  /** How late the server's event loop ran timers over the window: p99 and worst (the worst process's). */
  server_loop_delay_p99_ms: number | null;
  server_loop_delay_max_ms: number | null;
  /** The share of the window the server's event loop was busy, 0 to 1 (the busiest process's). */
  server_loop_utilization: number | null;
  generator_cpu_pct: number;
  generator_lag_max_ms: number;
  duration_s: number;
  warmup_s: number;
  /** p99 under the bound and nothing lost. */
  pass: boolean;
  /** Parley's figure over the baseline's at the same offered rate (null without one). */
  achieved_rate_ratio: number | null;
  deliveries_per_s_ratio: number | null;
  p99_ms_ratio: number | null;
}

/**
 * The end of a sweep: the highest passing rate of each target and Parley's over the baseline's; with
 * --store both, also Parley on PostgreSQL and its rate over Parley's on SQLite.
 */
export interface SweepSummaryRow extends RunConditions {
  kind: 'summary';
  p99_bound_ms: number;
  parley_sustainable_rate: number | null;
  baseline_sustainable_rate: number | null;
  sustainable_rate_ratio: number | null;
  parley_postgres_sustainable_rate: number | null;
  /** Parley on PostgreSQL over Parley on SQLite, both measured in this run. */
  postgres_sqlite_ratio: number | null;
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

export function stepRow(target: TargetName, step: number, m: StepMeasurement, conditions: RunConditions, p99BoundMs: number): StepRow {
  const p99 = m.histogram.percentileMs(99);
  return {
    kind: 'step',
    target,
    ...conditions,
    step,
    offered_rate: m.plan.ratePerSecond,
    achieved_rate: round(m.achievedRate, 1),
    sent_rate: round(m.sentRate, 1),
    deliveries_per_s: round(m.deliveriesPerSecond, 1),
    p50_ms: round(m.histogram.percentileMs(50)),
    p95_ms: round(m.histogram.percentileMs(95)),
    p99_ms: round(p99),
    max_ms: round(m.histogram.maxMs),
    mean_ms: round(m.histogram.meanMs),
    samples: m.histogram.count,
    expected_deliveries: m.expected,
    delivered: m.delivered,
    lost: m.lost,
    duplicated: m.duplicated,
    misrouted: m.misrouted,
    stray: m.stray,
    send_errors: m.sendErrors,
    first_error: m.firstError ?? null,
    disconnects: m.disconnects.length,
    server_rss_mb: m.server ? round(m.server.rssMb, 1) : null,
    server_cpu_pct: m.server ? round(m.server.cpuPct, 1) : null,
    server_loop_delay_p99_ms: m.loop ? round(m.loop.delayP99Ms) : null,
    server_loop_delay_max_ms: m.loop ? round(m.loop.delayMaxMs) : null,
    server_loop_utilization: m.loop ? round(m.loop.utilization, 3) : null,
    generator_cpu_pct: round(m.generatorCpuPct, 1),
    generator_lag_max_ms: round(m.generatorLagMaxMs),
    duration_s: m.plan.durationMs / 1000,
    warmup_s: m.plan.warmupMs / 1000,
    pass: p99 < p99BoundMs && m.lost === 0,
    achieved_rate_ratio: null,
    deliveries_per_s_ratio: null,
    p99_ms_ratio: null,
  };
}

const ratio = (a: number, b: number): number | null => (b > 0 ? round(a / b, 3) : null);

/** A Parley row with its ratios to the baseline row of the same offered rate, if there is one. */
export function withBaselineRatios(row: StepRow, baselineRows: readonly StepRow[]): StepRow {
  const base = baselineRows.find((b) => b.offered_rate === row.offered_rate);
  if (row.target === 'baseline' || !base) return row;
  return {
    ...row,
    achieved_rate_ratio: ratio(row.achieved_rate, base.achieved_rate),
    deliveries_per_s_ratio: ratio(row.deliveries_per_s, base.deliveries_per_s),
    p99_ms_ratio: ratio(row.p99_ms, base.p99_ms),
  };
}

export function sweepSummary(conditions: RunConditions, p99BoundMs: number, sustainable: Partial<Record<TargetName, number>>): SweepSummaryRow {
  const { parley, baseline, 'parley-postgres': postgres } = sustainable;
  return {
    kind: 'summary',
    ...conditions,
    p99_bound_ms: p99BoundMs,
    parley_sustainable_rate: parley ?? null,
    baseline_sustainable_rate: baseline ?? null,
    sustainable_rate_ratio: parley !== undefined && baseline !== undefined ? ratio(parley, baseline) : null,
    parley_postgres_sustainable_rate: postgres ?? null,
    postgres_sqlite_ratio: postgres !== undefined && parley !== undefined ? ratio(postgres, parley) : null,
  };
}

const num = (n: number | null, digits = 1): string => (n === null ? '-' : n.toFixed(digits));

/** The steps as a table for people, with the ratios under it. */
export function formatSteps(rows: readonly StepRow[]): string {
  const table = formatTable(
    ['TARGET', 'STEP', 'OFFERED/S', 'ACHIEVED/S', 'DELIVERIES/S', 'P50 MS', 'P95 MS', 'P99 MS', 'MAX MS', 'LOST', 'DUP', 'SRV RSS MB', 'SRV CPU %', 'LOOP MAX MS', 'GEN CPU %', 'PASS'],
    rows.map((r) => [
      r.target,
      String(r.step),
      String(r.offered_rate),
      num(r.achieved_rate),
      num(r.deliveries_per_s, 0),
      num(r.p50_ms, 2),
      num(r.p95_ms, 2),
      num(r.p99_ms, 2),
      num(r.max_ms, 2),
      String(r.lost),
      String(r.duplicated),
      num(r.server_rss_mb),
      num(r.server_cpu_pct),
      num(r.server_loop_delay_max_ms),
      num(r.generator_cpu_pct),
      r.pass ? 'yes' : 'no',
    ]),
  );
  const ratios = rows
    .filter((r) => r.achieved_rate_ratio !== null)
    .map((r) => `${r.target} / baseline at ${r.offered_rate} msg/s: achieved ${num(r.achieved_rate_ratio, 3)}, deliveries/s ${num(r.deliveries_per_s_ratio, 3)}, p99 ${num(r.p99_ms_ratio, 3)}\n`);
  return table + ratios.join('');
}

/** The idle-connections scenario: what holding authenticated, silent connections costs the server. */
export interface IdleRow extends RunConditions {
  kind: 'idle';
  target: TargetName;
  connections: number;
  connect_s: number;
  server_rss_before_mb: number | null;
  server_rss_after_mb: number | null;
  /** (RSS with every connection open − RSS before) / connections. */
  rss_per_connection_kb: number | null;
  /** (RSS with every connection open − RSS with half of them) / the other half: the marginal cost. */
  rss_per_connection_marginal_kb: number | null;
  /** Server CPU while the connections sit idle (heartbeats only). */
  server_cpu_pct: number | null;
  generator_cpu_pct: number;
  hold_s: number;
  /** Parley's RSS per connection over the baseline's. */
  rss_per_connection_ratio: number | null;
}

export function idleRowWithRatio(row: IdleRow, baseline: IdleRow | undefined): IdleRow {
  if (row.target === 'baseline' || !baseline || row.rss_per_connection_kb === null || baseline.rss_per_connection_kb === null) return row;
  return { ...row, rss_per_connection_ratio: ratio(row.rss_per_connection_kb, baseline.rss_per_connection_kb) };
}

export function formatIdle(rows: readonly IdleRow[]): string {
  return formatTable(
    ['TARGET', 'CONNECTIONS', 'CONNECT S', 'RSS BEFORE MB', 'RSS AFTER MB', 'KB/CONNECTION', 'MARGINAL KB', 'SRV CPU % IDLE', 'RATIO'],
    rows.map((r) => [
      r.target,
      String(r.connections),
      num(r.connect_s),
      num(r.server_rss_before_mb),
      num(r.server_rss_after_mb),
      num(r.rss_per_connection_kb, 2),
      num(r.rss_per_connection_marginal_kb, 2),
      num(r.server_cpu_pct),
      num(r.rss_per_connection_ratio, 3),
    ]),
  );
}

export { round };

/** The history scenario: one page of 50 from a long conversation, newest or at a random depth. */
export interface HistoryRow extends RunConditions {
  kind: 'history';
  target: 'parley';
  page: 'latest' | 'deep';
  messages: number;
  /** How the history was written: through the server's send path in process, at this rate. */
  fill_s: number;
  fill_rate: number;
  samples: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  short_pages: number;
  server_rss_mb: number | null;
}

export function formatHistory(rows: readonly HistoryRow[]): string {
  return formatTable(
    ['PAGE', 'MESSAGES', 'SAMPLES', 'P50 MS', 'P95 MS', 'P99 MS', 'MAX MS', 'SHORT PAGES', 'SRV RSS MB'],
    rows.map((r) => [r.page, String(r.messages), String(r.samples), num(r.p50_ms, 2), num(r.p95_ms, 2), num(r.p99_ms, 2), num(r.max_ms, 2), String(r.short_pages), num(r.server_rss_mb)]),
  );
}
