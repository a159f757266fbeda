import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, loadConfig, type ParleyServer } from '@parley/server';
import { runBench, runCli, type BenchOptions, type HistoryRow, type IdleRow, type StepRow, type SweepSummaryRow } from '@parley/cli';
// The stores this run covers (PARLEY_TEST_STORES; PostgreSQL left out loudly when it does not answer).
import { PG_URL, storeImpls } from '../../server/test/helpers/test-stores.js';

const STORES = await storeImpls();
const execFileAsync = promisify(execFile);
// Each run starts servers and waits out warm-ups and drains: generous time on a busy machine (not an assertion).
const RUN_TIMEOUT_MS = 120_000;

// 2 rooms x 3 members at 10 msg/s: 1 s of warm-up and 2 measured, so 30 messages, each for 3 members.
const TINY = { rooms: 2, members: 3, rate: 10, warmupS: 1, durationS: 2, drainS: 5 };
const SCHEDULED = 30;
const EXPECTED = SCHEDULED * TINY.members;

const STEP_FIELDS = [
  'offered_rate',
  'achieved_rate',
  'deliveries_per_s',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'max_ms',
  'lost',
  'duplicated',
  'server_rss_mb',
  'server_cpu_pct',
  'generator_cpu_pct',
  'target',
  'achieved_rate_ratio',
  'deliveries_per_s_ratio',
  'p99_ms_ratio',
] as const;

function expectCompleteDelivery(row: StepRow): void {
  expect(row).toMatchObject({
    kind: 'step',
    offered_rate: TINY.rate,
    expected_deliveries: EXPECTED,
    delivered: EXPECTED,
    lost: 0,
    duplicated: 0,
    misrouted: 0,
    stray: 0,
    send_errors: 0,
    first_error: null,
    disconnects: 0,
    rooms: TINY.rooms,
    members: TINY.members,
  });
  // Every delivery of a message due in the measured window is a latency sample.
  expect(row.samples).toBe((SCHEDULED - TINY.rate * TINY.warmupS) * TINY.members);
  for (const field of STEP_FIELDS) expect(row, field).toHaveProperty(field);
  for (const field of ['p50_ms', 'p95_ms', 'p99_ms', 'max_ms', 'achieved_rate', 'deliveries_per_s', 'generator_cpu_pct'] as const) {
    expect(typeof row[field], field).toBe('number');
    expect(row[field], field).toBeGreaterThan(0);
  }
  expect(row.p50_ms).toBeLessThanOrEqual(row.p95_ms);
  expect(row.p95_ms).toBeLessThanOrEqual(row.p99_ms);
  expect(row.p99_ms).toBeLessThanOrEqual(row.max_ms);
}

describe.each(STORES)('$name: parley bench, end to end', (impl) => {
  it('drives the baseline and a Parley server it starts, losing and repeating nothing, and reports the ratios', async () => {
    const rows: (StepRow | SweepSummaryRow | IdleRow | HistoryRow)[] = [];
    const notes: string[] = [];
    const options: BenchOptions = {
      scenario: 'fanout',
      ...TINY,
      sweep: false,
      maxSteps: 1,
      p99BoundMs: 100,
      store: impl.name,
      databaseUrl: PG_URL,
      redisUrl: 'redis://127.0.0.1:6379',
      processes: 1,
      baseline: impl.name === 'sqlite',
      threads: 0,
      inProcess: true,
      pin: false,
    };
    const result = await runBench(options, { row: (r) => rows.push(r), note: (n) => notes.push(n) });
    expect(result.summary).toBeUndefined();
    expect(rows).toEqual(result.steps);
    expect(rows.map((r) => (r.kind === 'step' ? r.target : r.kind))).toEqual(impl.name === 'sqlite' ? ['baseline', 'parley'] : ['parley']);
    for (const row of result.steps) {
      expectCompleteDelivery(row);
      expect(row).toMatchObject({ store: impl.name, processes: 1, pinned: 'no', server_rss_mb: null, server_cpu_pct: null, server_loop_delay_max_ms: null });
    }
    const parley = result.steps.find((r) => r.target === 'parley')!;
    if (impl.name === 'sqlite') {
      expect(typeof parley.achieved_rate_ratio).toBe('number');
      expect(typeof parley.deliveries_per_s_ratio).toBe('number');
      expect(typeof parley.p99_ms_ratio).toBe('number');
    } else {
      expect(notes.some((n) => /PostgreSQL .*schema parley_bench_\w+ \(dropped afterwards\)/.test(n))).toBe(true);
    }
    expect(notes.some((n) => /rate limit raised/.test(n))).toBe(true);
  }, RUN_TIMEOUT_MS);
});

describe('parley bench, the other scenarios', () => {
  const base = { ...TINY, sweep: false, maxSteps: 1, p99BoundMs: 100, store: 'sqlite', databaseUrl: PG_URL, redisUrl: 'redis://127.0.0.1:6379', processes: 1, threads: 0, inProcess: true, pin: false } as const;

  it('measures the server processes it starts: CPU, memory, their event loops and CPU profiles over the window', async () => {
    // Server processes run compiled code (`npm test` builds first): the bench is run as its users run it.
    const bin = fileURLToPath(new URL('../bin/parley.js', import.meta.url));
    const profiles = mkdtempSync(join(tmpdir(), 'parley-bench-prof-'));
    const args = ['bench', '--rooms', '2', '--members', '3', '--rate', '10', '--warmup', '1', '--duration', '2', '--drain', '5', '--threads', '0', '--no-pin', '--json', '--cpu-prof-dir', profiles];
    let stdout = '';
    try {
      ({ stdout } = await execFileAsync(process.execPath, [bin, ...args]));
      const written = readdirSync(profiles);
      // One profile per measured window of each server (the baseline, then Parley), each a V8 CPU profile.
      expect(written).toHaveLength(2);
      for (const file of written) {
        expect(file).toMatch(/^window-\d+-1\.cpuprofile$/);
        const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as { nodes: unknown[]; samples: unknown[] };
        expect(profile.nodes.length).toBeGreaterThan(0);
        expect(profile.samples.length).toBeGreaterThan(0);
      }
    } finally {
      rmSync(profiles, { recursive: true, force: true });
    }
    const rows = stdout.trim().split('\n').map((line) => JSON.parse(line) as StepRow);
    expect(rows.map((r) => r.target)).toEqual(['baseline', 'parley']);
    for (const row of rows) {
      expectCompleteDelivery(row);
      expect(row.server_rss_mb).toBeGreaterThan(0);
      expect(row.server_cpu_pct).toBeGreaterThanOrEqual(0);
      // Read from the probe the bench loads into each server (event-loop-probe.ts), over its IPC channel.
      expect(row.server_loop_utilization).toBeGreaterThan(0);
      expect(row.server_loop_utilization).toBeLessThanOrEqual(1);
      expect(row.server_loop_delay_p99_ms).toBeGreaterThanOrEqual(0);
      expect(row.server_loop_delay_max_ms).toBeGreaterThanOrEqual(row.server_loop_delay_p99_ms!);
    }
  }, RUN_TIMEOUT_MS);

  /** A sweep of two rates at a p99 bound no step can meet: every step fails. */
  const failingSweep = async (options: Pick<BenchOptions, 'retries' | 'baseline'>) => {
    const rows: StepRow[] = [];
    const result = await runBench(
      { ...base, scenario: 'fanout', rate: 20, durationS: 1, drainS: 2, sweep: true, maxSteps: 2, p99BoundMs: 0.000_001, ...options },
      { row: (r) => void (r.kind === 'step' && rows.push(r)), note: () => {} },
    );
    return { rows, result };
  };

  it('sweep: runs a failed step again at the same rate before taking the rate as failed, each attempt a row', async () => {
    // A bound no step can meet: every attempt fails, so each rate is tried 1 + retries times, then halved.
    const { rows, result } = await failingSweep({ retries: 1, baseline: false });
    expect(rows.map((r) => [r.step, r.offered_rate, r.pass])).toEqual([
      [1, 20, false],
      [2, 20, false],
      [3, 10, false],
      [4, 10, false],
    ]);
    for (const row of rows) expect(row).toMatchObject({ lost: 0, duplicated: 0, misrouted: 0, send_errors: 0 });
    expect(result.summary).toMatchObject({ parley_sustainable_rate: null });
  }, RUN_TIMEOUT_MS);

  it('sweep: the targets take turns, step by step, so that a drift of the machine reaches both', async () => {
    // Every step fails: each target tries the start rate, then half of it.
    const { rows, result } = await failingSweep({ retries: 0, baseline: true });
    expect(rows.map((r) => [r.target, r.step, r.offered_rate])).toEqual([
      ['baseline', 1, 20],
      ['parley', 1, 20],
      ['baseline', 2, 10],
      ['parley', 2, 10],
    ]);
    for (const row of rows) expect(row).toMatchObject({ lost: 0, duplicated: 0, misrouted: 0, send_errors: 0 });
    // Each Parley step is compared with the baseline's step of its rate, measured just before it.
    for (const row of rows.filter((r) => r.target === 'parley')) expect(row.achieved_rate_ratio).toBeGreaterThan(0);
    expect(result.summary).toMatchObject({ parley_sustainable_rate: null, baseline_sustainable_rate: null });
  }, RUN_TIMEOUT_MS);

  it.skipIf(!STORES.some((s) => s.name === 'postgres'))(
    '--store both: Parley on SQLite and on PostgreSQL in one run, each step a row of its store, and their ratio',
    async () => {
      const rows: StepRow[] = [];
      const notes: string[] = [];
      const result = await runBench(
        { ...base, scenario: 'fanout', store: 'both', sweep: true, maxSteps: 1, baseline: true },
        { row: (r) => void (r.kind === 'step' && rows.push(r)), note: (n) => notes.push(n) },
      );
      expect(rows.map((r) => [r.target, r.store])).toEqual([
        ['baseline', 'sqlite'],
        ['parley', 'sqlite'],
        ['parley-postgres', 'postgres'],
      ]);
      for (const row of rows) expectCompleteDelivery(row);
      // Each Parley is compared with the baseline of the same rate.
      for (const row of rows.slice(1)) expect(typeof row.achieved_rate_ratio).toBe('number');
      expect(notes.some((n) => /PostgreSQL .*schema parley_bench_\w+ \(dropped afterwards\)/.test(n))).toBe(true);
      expect(result.summary).toMatchObject({
        parley_sustainable_rate: TINY.rate,
        parley_postgres_sustainable_rate: TINY.rate,
        baseline_sustainable_rate: TINY.rate,
        postgres_sqlite_ratio: 1,
      });
    },
    RUN_TIMEOUT_MS,
  );

  it('refuses --store both where it cannot compare like with like', async () => {
    await expect(runBench({ ...base, scenario: 'history', store: 'both', baseline: false }, { row: () => {}, note: () => {} })).rejects.toThrow(/--store both/);
    await expect(runBench({ ...base, scenario: 'fanout', store: 'both', processes: 2, baseline: false }, { row: () => {}, note: () => {} })).rejects.toThrow(/--store both/);
  });

  it('idle: connects every member to each target, holds the connections and reports one row per target', async () => {
    const rows: unknown[] = [];
    const result = await runBench({ ...base, scenario: 'idle', durationS: 1, baseline: true }, { row: (r) => rows.push(r), note: () => {} });
    expect(result.steps).toEqual([]);
    expect(rows).toEqual(result.idle);
    expect(result.idle.map((r) => r.target)).toEqual(['baseline', 'parley']);
    for (const row of result.idle) {
      // In process, the server's memory cannot be told apart from the generator's: no figure rather than a wrong one.
      expect(row).toMatchObject({ kind: 'idle', connections: TINY.rooms * TINY.members, hold_s: 1, server_rss_before_mb: null, rss_per_connection_kb: null });
      // A duration, not a bound on one: a few members on loopback can connect within the 10 ms it is rounded to.
      expect(row.connect_s).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(row.connect_s)).toBe(true);
    }
  }, RUN_TIMEOUT_MS);

  it('history: writes the conversation through the send path and times full pages of 50, newest and deep', async () => {
    const notes: string[] = [];
    const result = await runBench(
      { ...base, scenario: 'history', baseline: true, historyMessages: 120, historySamples: 10 },
      { row: () => {}, note: (n) => notes.push(n) },
    );
    expect(result.history.map((r) => r.page)).toEqual(['latest', 'deep']);
    for (const row of result.history) {
      expect(row).toMatchObject({ kind: 'history', target: 'parley', messages: 120, samples: 10, short_pages: 0 });
      expect(row.p50_ms).toBeGreaterThan(0);
      expect(row.p99_ms).toBeLessThanOrEqual(row.max_ms);
      expect(row.fill_rate).toBeGreaterThan(0);
    }
    expect(notes).toContain('Baseline: none for history (the baseline server keeps no readable history).');
  }, RUN_TIMEOUT_MS);
});

describe('parley bench --url', () => {
  let server: ParleyServer;
  let url: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-test-'));
    server = await createServer(loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_PORT: '0', PARLEY_LOG_LEVEL: 'silent' }));
    url = await server.listen();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, { env: {}, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    return { code, stdout, stderr };
  }

  it('benchmarks a running server and prints one JSON object per step', async () => {
    const run = await cli([
      'bench',
      ...['--url', url, '--admin-key', server.secrets.adminKey],
      ...['--rooms', '2', '--members', '3', '--rate', '10', '--warmup', '1', '--duration', '2', '--drain', '5', '--threads', '0', '--json'],
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const row = JSON.parse(lines[0]!) as StepRow;
    expect(row.target).toBe('parley');
    expectCompleteDelivery(row);
    // The bench did not start this server: it cannot see its process, and there is no baseline to compare.
    expect(row).toMatchObject({ server_rss_mb: null, server_cpu_pct: null, achieved_rate_ratio: null, pinned: 'no', store: 'unknown' });
    expect(run.stderr).toMatch(/Baseline: skipped/);
    // It leaves the server as it found it: its users and rooms are deleted again.
    const admin = { authorization: `Bearer ${server.secrets.adminKey}` };
    const users = (await (await fetch(`${url}/v1/users?limit=200`, { headers: admin })).json()) as { items: { handle: string }[] };
    expect(users.items.filter((u) => u.handle.startsWith('bench-'))).toEqual([]);
    const rooms = (await (await fetch(`${url}/v1/conversations?kind=room`, { headers: admin })).json()) as { items: unknown[] };
    expect(rooms.items).toEqual([]);
    expect(run.stderr).toMatch(/deleting the bench's 2 rooms and 6 users/);
  }, RUN_TIMEOUT_MS);

  it('refuses a server that is not on this machine, --url without an admin key, and flags that do not apply to it', async () => {
    const remote = await cli(['bench', '--url', 'http://192.0.2.1:8080', '--admin-key', 'k'.repeat(20)]);
    expect(remote.code).toBe(1);
    expect(remote.stderr).toMatch(/loopback/);
    const keyless = await cli(['bench', '--url', url]);
    expect(keyless).toMatchObject({ code: 2, stdout: '' });
    expect(keyless.stderr).toMatch(/--admin-key/);
    const mixed = await cli(['bench', '--url', url, '--admin-key', server.secrets.adminKey, '--processes', '2']);
    expect(mixed).toMatchObject({ code: 2, stdout: '' });
    expect(mixed.stderr).toMatch(/do not apply with --url/);
    const history = await cli(['bench', '--url', url, '--admin-key', server.secrets.adminKey, '--scenario', 'history']);
    expect(history).toMatchObject({ code: 2, stdout: '' });
  });

  it('checks its numbers and documents every flag in --help', async () => {
    const bad = await cli(['bench', '--rate', 'fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--rate/);
    const help = await cli(['bench', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--url', '--admin-key', '--rooms', '--members', '--rate', '--duration', '--warmup', '--sweep', '--store', '--database-url', '--processes', '--scenario', '--no-baseline', '--json']) {
      expect(help.stdout).toContain(flag);
    }
  });
});
