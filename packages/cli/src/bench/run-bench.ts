import { mkdirSync } from 'node:fs';
import { BenchGenerator } from './bench-generator.js';
import type { BenchMember } from './generator-protocol.js';
import {
  idleRowWithRatio,
  round,
  stepRow,
  sweepSummary,
  withBaselineRatios,
  type HistoryRow,
  type IdleRow,
  type RunConditions,
  type StepRow,
  type SweepSummaryRow,
  type TargetName,
} from './bench-report.js';
import { baselineMembers, startBaseline } from './baseline-target.js';
import { parleyLimitWarnings, setUpParleyRooms, startParley, type BenchTarget, type RoomLayout, type StartParleyOptions } from './parley-target.js';
import { ownCpuSeconds, sampleProcesses, type ProcessSample } from './process-stats.js';
import { fillHistory, timeHistoryPagesApart, type FilledHistory } from './history-bench.js';
import { RateSweep } from './rate-sweep.js';
import { canPin, pinSelf } from './server-process.js';

export const SCENARIOS = ['fanout', 'big-room', 'idle', 'history'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenario: Scenario;
  /** A running Parley server (with `adminKey`); otherwise the bench starts one. */
  url?: string;
  adminKey?: string;
  rooms: number;
  members: number;
  /** Messages per second offered (the first rate of a sweep). */
  rate: number;
  durationS: number;
  warmupS: number;
  /** Wait for late deliveries after the last send, at most this long. */
  drainS: number;
  sweep: boolean;
  /** Most rates a sweep tries, per target (its retries not counted). */
  maxSteps: number;
  /**
   * Sweep: times a failed step is run again at the same rate before the sweep takes the rate as failed
   * (each attempt is a row of its own). Default 0.
   */
  retries?: number;
  p99BoundMs: number;
  /** `both`: Parley on SQLite and on PostgreSQL in the same run, their steps taking turns (targets `parley`, `parley-postgres`). */
  store: 'sqlite' | 'postgres' | 'both';
  databaseUrl: string;
  redisUrl: string;
  processes: number;
  baseline: boolean;
  /** Generator worker threads (0: in the bench's own thread). */
  threads: number;
  /** Servers inside the bench process instead of pinned child processes (tests, debugging). */
  inProcess: boolean;
  /** Pin the server(s) and the generator to different cores when the bench starts the servers. */
  pin: boolean;
  /** History scenario: messages in the conversation, and timed requests per kind of page. */
  historyMessages?: number;
  historySamples?: number;
  /** Profile the server processes over each measured window into this directory. */
  cpuProfDir?: string;
}

export interface BenchOutput {
  row(row: StepRow | SweepSummaryRow | IdleRow | HistoryRow): void;
  /** Progress and conditions, for people. */
  note(text: string): void;
}

export interface BenchResult {
  steps: StepRow[];
  idle: IdleRow[];
  history: HistoryRow[];
  summary: SweepSummaryRow | undefined;
}

const SERVER_CPUS = '0';
const GENERATOR_CPUS = '1';
const SETTLE_QUIET_MS = 500;
const SETTLE_MAX_MS = 30_000;
const IDLE_SETTLE_MS = 2000;
const IDLE_CHECK_MS = 500;
const IDLE_CPU_SHARE = 0.1;
const SPREAD_ABOVE = 5000;
const SOURCE_ADDRESSES = 4;
const MIB = 1024 * 1024;

/** Every address the bench talks to must be this machine's: it generates load, it must never aim it elsewhere. */
export function assertLoopback(what: string, raw: string): void {
  let host: string;
  try {
    host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  } catch {
    throw new Error(`${what}: not a URL: ${raw}`);
  }
  if (!(host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))) {
    throw new Error(`${what} must be a loopback address (127.x.x.x, ::1, localhost): the bench only loads this machine, got ${host}`);
  }
}

/**
 * Runs the bench: for the baseline (unless disabled) and Parley, start (or adopt) the server, set up the
 * rooms and connect every member; then run one step or a sweep per target, the targets' steps taking
 * turns, and report each step as it completes.
 */
export async function runBench(options: BenchOptions, out: BenchOutput): Promise<BenchResult> {
  if (options.url !== undefined) assertLoopback('--url', options.url);
  if (options.store !== 'sqlite' || options.processes > 1) assertLoopback('--database-url', options.databaseUrl);
  const storeBothProblem = storeBothRefusal(options);
  if (storeBothProblem !== undefined) throw new Error(storeBothProblem);
  if (options.processes > 1) assertLoopback('--redis-url', options.redisUrl);
  const layout: RoomLayout = { rooms: options.rooms, membersPerRoom: options.members };
  const startsServers = options.url === undefined && !options.inProcess;
  const pinning = startsServers && options.pin && canPin();
  if (pinning) pinSelf(GENERATOR_CPUS);
  if (options.cpuProfDir !== undefined) mkdirSync(options.cpuProfDir, { recursive: true });
  const conditions: RunConditions = {
    scenario: options.scenario,
    rooms: options.rooms,
    members: options.members,
    store: options.url !== undefined ? 'unknown' : options.processes > 1 ? 'postgres' : storeOf('parley', options),
    processes: options.processes,
    pinned: pinning ? `server cpu ${SERVER_CPUS}, generator cpu ${GENERATOR_CPUS}` : 'no',
    threads: options.threads,
  };
  out.note(
    pinning
      ? `Pinning: server(s) on CPU ${SERVER_CPUS}, generator on CPU ${GENERATOR_CPUS} (taskset).`
      : `Pinning: none (${!startsServers ? 'the bench did not start the servers' : !options.pin ? '--no-pin' : 'taskset not found'}).`,
  );
  const serverCpus = pinning ? SERVER_CPUS : undefined;
  const steps: StepRow[] = [];
  const sustainable: Partial<Record<TargetName, number>> = {};
  const parleys: TargetName[] = options.store === 'both' ? ['parley', 'parley-postgres'] : ['parley'];
  const targets: TargetName[] = options.baseline && options.url === undefined ? ['baseline', ...parleys] : parleys;
  if (options.baseline && options.url !== undefined) out.note('Baseline: skipped (it runs only when the bench starts the servers, to compare like with like).');

  const idle: IdleRow[] = [];
  if (options.scenario === 'history') {
    const history = await runHistoryScenario(options, conditions, serverCpus, out);
    return { steps, idle, history, summary: undefined };
  }
  if (options.scenario === 'idle') {
    for (const name of targets) {
      const { target, members } = await prepareTarget(name, options, layout, serverCpus, out);
      for (const note of target.notes) out.note(note);
      const generator = BenchGenerator.create({ threads: options.threads, workerUrl: new URL('./generator-worker.js', import.meta.url) });
      const sample = target.pids.length > 0 ? () => sampleProcesses(target.pids) : undefined;
      try {
        const row = await measureIdle(name, generator, members, conditionsOf(name, conditions, options), options, sample, out);
        idle.push(idleRowWithRatio(row, idle.find((r) => r.target === 'baseline')));
        out.row(idle.at(-1) as IdleRow);
      } finally {
        await generator.close();
        await target.close();
      }
    }
    return { steps, idle, history: [], summary: undefined };
  }
  // Every target is started and connected first, then their steps alternate (the baseline's step, then
  // Parley's, round after round): this machine's speed drifts within minutes, and a drift between a
  // baseline measured first and a Parley measured after moved the ratio by a third (docs/benchmarks.md).
  // A target waiting for its turn is idle: its connections are open and silent.
  const running: RunningTarget[] = [];
  try {
    for (const name of targets) {
      const { target, members } = await prepareTarget(name, options, layout, serverCpus, out);
      const generator = BenchGenerator.create({ threads: options.threads, workerUrl: new URL('./generator-worker.js', import.meta.url) });
      running.push({
        name,
        target,
        members,
        generator,
        conditions: conditionsOf(name, conditions, options),
        sweep: options.sweep ? new RateSweep({ startRate: options.rate, maxSteps: options.maxSteps }) : undefined,
        rate: options.rate,
        step: 0,
      });
      for (const note of target.notes) out.note(note);
      await connectAll(name, generator, members, out, options.threads);
    }
    let first = true;
    const step = async (r: RunningTarget, rate: number, attempt: number): Promise<boolean> => {
      if (!first) await between(r, running, out);
      first = false;
      return (await runStep(r, rate, attempt, options, steps, out)).pass;
    };
    while (running.some((r) => r.rate !== undefined)) {
      for (const r of running) {
        if (r.rate === undefined) continue;
        let passed = await step(r, r.rate, 0);
        for (let attempt = 1; r.sweep && !passed && attempt <= (options.retries ?? 0); attempt += 1) passed = await step(r, r.rate, attempt);
        if (!r.sweep) {
          r.rate = undefined;
          continue;
        }
        r.sweep.record(r.rate, passed);
        r.rate = r.sweep.next();
      }
    }
    for (const r of running) if (r.sweep?.sustainable !== undefined) sustainable[r.name] = r.sweep.sustainable;
  } finally {
    for (const r of running) {
      await r.generator.close();
      await r.target.close();
    }
  }
  const summary = options.sweep ? sweepSummary(conditions, options.p99BoundMs, sustainable) : undefined;
  if (summary) out.row(summary);
  return { steps, idle, history: [], summary };
}

/** A fan-out target of a run: started, its members connected, its sweep (if any) under way. */
interface RunningTarget {
  name: TargetName;
  target: BenchTarget;
  members: BenchMember[];
  generator: BenchGenerator;
  conditions: RunConditions;
  sweep: RateSweep | undefined;
  /** The rate of its next step; undefined once it is done. */
  rate: number | undefined;
  step: number;
}

function conditionsOf(name: TargetName, conditions: RunConditions, options: BenchOptions): RunConditions {
  return name === 'parley' ? conditions : { ...conditions, store: storeOf(name, options) };
}

/**
 * Before a step of `r`: every target's last step has its stragglers delivered (a server still working off
 * an overloaded step would take the core from the next step, whichever target it is), and the members
 * `r`'s server closed come back.
 */
async function between(r: RunningTarget, running: readonly RunningTarget[], out: BenchOutput): Promise<void> {
  for (const other of running) await settle(other.generator);
  await serversIdle(running.flatMap((other) => other.target.pids));
  const healed = await r.generator.reconnect();
  if (healed.reconnected > 0) out.note(`${r.name}: reconnected ${healed.reconnected} member(s) the server had closed`);
  if (healed.failures.length > 0) throw new Error(`members could not reconnect to ${r.name}; first: ${healed.failures[0]}`);
}

/** One measured step of a target at `rate`, reported as a row with its ratios to the baseline's steps so far. */
async function runStep(r: RunningTarget, rate: number, attempt: number, options: BenchOptions, steps: StepRow[], out: BenchOutput): Promise<StepRow> {
  r.step += 1;
  out.note(`${r.name}: step ${r.step}: ${rate} msg/s for ${options.durationS} s after ${options.warmupS} s of warm-up${attempt > 0 ? ` (again: attempt ${attempt + 1})` : ''}…`);
  const sample = r.target.pids.length > 0 ? () => sampleProcesses(r.target.pids) : undefined;
  const measured = await r.generator.runStep({
    step: r.step,
    plan: { ratePerSecond: rate, warmupMs: options.warmupS * 1000, durationMs: options.durationS * 1000, senders: r.members.length },
    rooms: options.rooms,
    drainMs: options.drainS * 1000,
    ...(sample ? { sampleServer: sample } : {}),
    loops: r.target.loops,
  });
  const row = withBaselineRatios(stepRow(r.name, r.step, measured, r.conditions, options.p99BoundMs), steps.filter((s) => s.target === 'baseline'));
  steps.push(row);
  out.row(row);
  return row;
}

/**
 * History: fill one room through the server's send path in process, start the measured server on that
 * store, and time pages of 50. There is no baseline: the baseline serves no history.
 */
async function runHistoryScenario(options: BenchOptions, conditions: RunConditions, serverCpus: string | undefined, out: BenchOutput): Promise<HistoryRow[]> {
  if (options.url !== undefined) throw new Error('the history scenario fills the store itself: run it without --url');
  const messages = options.historyMessages ?? 1_000_000;
  const samples = options.historySamples ?? 1000;
  if (options.baseline) out.note('Baseline: none for history (the baseline server keeps no readable history).');
  let filled: FilledHistory | undefined;
  const parley = await startParley({
    ...serverSettings(options, serverCpus),
    prefill: async (server) => {
      out.note(`parley: writing ${messages} messages into one room through the send path, in process…`);
      filled = await fillHistory(server, messages, (done) => out.note(`  ${done} messages written`));
      out.note(`parley: ${messages} messages written in ${filled.fillSeconds.toFixed(1)} s`);
    },
  });
  try {
    for (const note of parley.notes) out.note(note);
    if (!filled) throw new Error('the history was not written');
    const history = filled;
    out.note(`parley: timing ${samples} requests for the latest page and ${samples} for a deep page…`);
    const timings = await timeHistoryPagesApart(parley.urls[0] as string, history, samples, options.threads);
    const server = parley.pids.length > 0 ? sampleProcesses(parley.pids) : undefined;
    const rows = timings.map(
      (t): HistoryRow => ({
        kind: 'history',
        target: 'parley',
        ...conditions,
        page: t.page,
        messages,
        fill_s: round(history.fillSeconds, 1),
        fill_rate: round(messages / Math.max(history.fillSeconds, 1e-3), 0),
        samples: t.histogram.count,
        p50_ms: round(t.histogram.percentileMs(50), 3),
        p95_ms: round(t.histogram.percentileMs(95), 3),
        p99_ms: round(t.histogram.percentileMs(99), 3),
        max_ms: round(t.histogram.maxMs, 3),
        short_pages: t.shortPages,
        server_rss_mb: server ? round(server.rssBytes / MIB, 1) : null,
      }),
    );
    for (const row of rows) out.row(row);
    return rows;
  } finally {
    await parley.close();
  }
}

/**
 * Why `--store both` cannot run with these options, or undefined: it compares the stores of servers the
 * bench starts, one process each, on the scenarios with a Parley target per store.
 */
export function storeBothRefusal(options: Pick<BenchOptions, 'store' | 'url' | 'processes' | 'scenario'>): string | undefined {
  if (options.store !== 'both' || (options.url === undefined && options.processes === 1 && options.scenario !== 'history')) return undefined;
  return '--store both compares one process on each store the bench starts, on the fan-out scenarios (not with --url, --processes or history)';
}

/** The database of a Parley target: `parley-postgres` is the PostgreSQL half of --store both. */
function storeOf(name: TargetName, options: BenchOptions): 'sqlite' | 'postgres' {
  return name === 'parley-postgres' || options.store === 'postgres' ? 'postgres' : 'sqlite';
}

/** How the bench starts Parley, the same for every scenario. */
function serverSettings(options: BenchOptions, cpus: string | undefined, name: TargetName = 'parley'): Omit<StartParleyOptions, 'url' | 'adminKey' | 'prefill'> {
  return {
    store: storeOf(name, options),
    databaseUrl: options.databaseUrl,
    redisUrl: options.redisUrl,
    processes: options.processes,
    inProcess: options.inProcess,
    cpus,
    ...(options.cpuProfDir !== undefined ? { cpuProfDir: options.cpuProfDir } : {}),
  };
}

/** Starts (or adopts) the target and creates its rooms and members. */
async function prepareTarget(
  name: TargetName,
  options: BenchOptions,
  layout: RoomLayout,
  serverCpus: string | undefined,
  out: BenchOutput,
): Promise<{ target: BenchTarget; members: BenchMember[] }> {
  // Past a few thousand sockets, spread the sources over several loopback addresses so that the
  // ephemeral ports of one address (about 28,000) never run short, whatever else holds some.
  const spread = (members: BenchMember[]): BenchMember[] =>
    members.length <= SPREAD_ABOVE ? members : members.map((m) => ({ ...m, localAddress: `127.0.0.${1 + (m.index % SOURCE_ADDRESSES)}` }));
  if (name === 'baseline') {
    const target = await startBaseline({ inProcess: options.inProcess, cpus: serverCpus, ...(options.cpuProfDir !== undefined ? { cpuProfDir: options.cpuProfDir } : {}) });
    return { target, members: spread(baselineMembers(target, layout)) };
  }
  const parley = await startParley({
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.adminKey !== undefined ? { adminKey: options.adminKey } : {}),
    ...serverSettings(options, serverCpus, name),
  });
  try {
    if (options.url !== undefined && options.scenario !== 'idle') {
      for (const w of await parleyLimitWarnings(parley, options.rate / (options.rooms * options.members))) out.note(`Warning: ${w}`);
    }
    out.note(`${name}: creating ${options.rooms * options.members} users with tokens and ${options.rooms} rooms…`);
    const rooms = await setUpParleyRooms(parley, layout);
    if (options.url === undefined) return { target: parley, members: spread(rooms.members) };
    // A server the bench did not start keeps its data: take the bench's rooms and users away again.
    const close = async (): Promise<void> => {
      out.note(`${name}: deleting the bench's ${options.rooms} rooms and ${rooms.members.length} users…`);
      const failures = await rooms.remove();
      if (failures.length > 0) out.note(`Warning: ${failures.length} deletions failed; first: ${failures[0]}`);
      await parley.close();
    };
    return { target: { ...parley, close }, members: spread(rooms.members) };
  } catch (err) {
    await parley.close();
    throw err;
  }
}

async function connectAll(name: TargetName, generator: BenchGenerator, members: BenchMember[], out: BenchOutput, threads: number): Promise<void> {
  out.note(`${name}: connecting ${members.length} members over ${Math.max(1, threads)} generator thread(s)…`);
  const connected = await generator.connect(members);
  if (connected.failures.length > 0) {
    throw new Error(`${connected.failures.length} of ${members.length} members could not connect to ${name}; first: ${connected.failures[0]}`);
  }
}

/**
 * Idle connections: the server's RSS before and after every member connected (authenticated, following
 * its room) and sat idle for a moment, and its CPU while they stay idle.
 */
async function measureIdle(
  name: TargetName,
  generator: BenchGenerator,
  members: BenchMember[],
  conditions: RunConditions,
  options: BenchOptions,
  sample: (() => ProcessSample | undefined) | undefined,
  out: BenchOutput,
): Promise<IdleRow> {
  await sleep(IDLE_SETTLE_MS);
  const before = sample?.();
  // In two halves: the second half's growth is the marginal cost of a connection, whatever the heap
  // kept from the setup (which the first connections may reuse).
  const half = Math.floor(members.length / 2);
  const timed = async (part: BenchMember[]): Promise<number> => {
    const started = Date.now();
    await connectAll(name, generator, part, out, options.threads);
    return (Date.now() - started) / 1000;
  };
  let connectS = await timed(members.slice(0, half));
  await sleep(IDLE_SETTLE_MS);
  const middle = sample?.();
  connectS += await timed(members.slice(half));
  await sleep(IDLE_SETTLE_MS);
  out.note(`${name}: holding ${members.length} idle connections for ${options.durationS} s…`);
  const t0 = Date.now();
  const cpu0 = ownCpuSeconds();
  const s0 = sample?.();
  await sleep(options.durationS * 1000);
  const s1 = sample?.();
  const wall = (Date.now() - t0) / 1000;
  const open = (await generator.progress()).open;
  if (open < members.length) throw new Error(`${members.length - open} idle connections to ${name} closed during the hold`);
  const rssDelta = before && s1 ? s1.rssBytes - before.rssBytes : undefined;
  return {
    kind: 'idle',
    target: name,
    ...conditions,
    connections: members.length,
    connect_s: round(connectS),
    server_rss_before_mb: before ? round(before.rssBytes / MIB, 1) : null,
    server_rss_after_mb: s1 ? round(s1.rssBytes / MIB, 1) : null,
    rss_per_connection_kb: rssDelta === undefined ? null : round(rssDelta / 1024 / members.length),
    rss_per_connection_marginal_kb: middle && s1 && members.length > half ? round((s1.rssBytes - middle.rssBytes) / 1024 / (members.length - half)) : null,
    server_cpu_pct: s0 && s1 ? round(((s1.cpuSeconds - s0.cpuSeconds) / wall) * 100, 1) : null,
    generator_cpu_pct: round(((ownCpuSeconds() - cpu0) / wall) * 100, 1),
    hold_s: options.durationS,
    rss_per_connection_ratio: null,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (at most SETTLE_MAX_MS) until the server processes the bench started use less than a tenth of a
 * core: work a step left behind that sends no frames (indexing its messages for search, a checkpoint)
 * must not run into the next step.
 */
async function serversIdle(pids: readonly number[]): Promise<void> {
  if (pids.length === 0) return;
  const until = Date.now() + SETTLE_MAX_MS;
  let last = sampleProcesses(pids);
  while (last && Date.now() < until) {
    await sleep(IDLE_CHECK_MS);
    const now = sampleProcesses(pids);
    if (!now || (now.cpuSeconds - last.cpuSeconds) / (IDLE_CHECK_MS / 1000) < IDLE_CPU_SHARE) return;
    last = now;
  }
}

/** Waits until nothing has arrived for a moment, so one step's backlog does not spill into the next. */
async function settle(generator: BenchGenerator): Promise<void> {
  const until = Date.now() + SETTLE_MAX_MS;
  let last = (await generator.progress()).frames;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, SETTLE_QUIET_MS));
    const frames = (await generator.progress()).frames;
    if (frames === last) return;
    last = frames;
  }
}
