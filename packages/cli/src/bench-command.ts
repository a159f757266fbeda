import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatHistory, formatIdle, formatSteps, type HistoryRow, type IdleRow, type StepRow } from './bench/bench-report.js';
import { runBench, SCENARIOS, storeBothRefusal, type BenchOptions, type Scenario } from './bench/run-bench.js';
import { CliError, EXIT_USAGE } from './cli-error.js';
import type { CliIo } from './cli-io.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The parsed flags: BenchOptions' own names where they match, the flag's name (in seconds, ms) where not. */
type BenchFlags = Pick<
  BenchOptions,
  'url' | 'adminKey' | 'scenario' | 'maxSteps' | 'retries' | 'store' | 'databaseUrl' | 'redisUrl' | 'processes' | 'baseline' | 'threads' | 'pin' | 'cpuProfDir'
> & {
  rooms?: number;
  members?: number;
  rate?: number;
  duration: number;
  warmup: number;
  drain: number;
  sweep?: boolean;
  p99Bound: number;
  inProcess?: boolean;
  json?: boolean;
  messages: number;
  samples: number;
};

/** Each scenario's room layout and rate, unless the flags say otherwise. */
const SCENARIO_DEFAULTS: Record<Scenario, { rooms: number; members: number; rate: number }> = {
  fanout: { rooms: 50, members: 20, rate: 1000 },
  'big-room': { rooms: 1, members: 1000, rate: 10 },
  // The rate is unused: idle members send nothing.
  idle: { rooms: 500, members: 20, rate: 1 },
  history: { rooms: 1, members: 1, rate: 1 },
};
// The generator holds one socket per member, and so does the server: stay well inside the usual fd limits.
const MAX_TOTAL_MEMBERS = 15_000;

const bounded =
  (min: number, max: number, integer = true) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}.`);
    }
    return n;
  };

const EXIT_INTERRUPTED = 130;

/**
 * Ctrl-C (or SIGTERM) ends a bench at once with exit code 130: the process then exits, and the servers
 * it started and their temporary directories go with it (see exit-cleanup.ts).
 */
async function untilInterrupted<T>(run: Promise<T>): Promise<T> {
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    onSignal = (signal) => reject(new CliError(`${signal}: bench interrupted`, EXIT_INTERRUPTED));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    return await Promise.race([run, interrupted]);
  } finally {
    if (onSignal) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

/** Adds `parley bench`: the load generator, the baseline server and the scenarios (docs/benchmarks.md). */
export function addBenchCommand(program: Command, io: CliIo, env: Env): void {
  program
    .command('bench')
    .description('Benchmark Parley against a bare ws + SQLite baseline: open-loop load, latency percentiles, loss, CPU and memory')
    .option('--url <url>', 'a running Parley server on this machine (default: start one on a temporary data directory)')
    .option('--admin-key <key>', 'admin key of the --url server (env PARLEY_ADMIN_KEY)')
    .addOption(new Option('--scenario <name>', 'fanout: R rooms x M members sending; big-room: one room of 1,000; idle: 10,000 silent connections (RSS per connection); history: pages of 50 from a long conversation').choices(SCENARIOS).default('fanout'))
    .option('--rooms <n>', 'rooms (fanout default 50, big-room 1, idle 500)', bounded(1, 1000))
    .option('--members <n>', 'members per room, each its own connection (fanout default 20, big-room 1000, idle 20)', bounded(1, 10_000))
    .option('--rate <n>', 'messages per second offered over all members; a sweep starts here (fanout default 1000, big-room 10)', bounded(0.1, 100_000, false))
    .option('--duration <s>', 'measured seconds per step (idle: seconds the connections are held)', bounded(1, 600), 10)
    .option('--warmup <s>', 'seconds sent before measuring', bounded(0, 120), 3)
    .option('--drain <s>', 'seconds to wait for late deliveries after the last send; what has not arrived then is lost', bounded(1, 120), 5)
    .option('--sweep', 'find the highest rate with p99 under --p99-bound and nothing lost: double, then bisect')
    .option('--max-steps <n>', 'most rates a sweep tries, per target (a retry does not count)', bounded(1, 30), 10)
    .option('--retries <n>', 'sweep: run a failed step again up to n times before taking its rate as failed', bounded(0, 5), 1)
    .option('--p99-bound <ms>', 'the p99 latency a step must stay under to pass', bounded(1, 60_000, false), 100)
    .addOption(
      new Option('--store <store>', 'the database of the Parley server the bench starts; both: Parley on SQLite and on PostgreSQL, in one run, their steps taking turns')
        .choices(['sqlite', 'postgres', 'both'] as const)
        .default('sqlite'),
    )
    .option('--database-url <url>', 'PostgreSQL for --store postgres and --processes (a fresh schema, dropped afterwards)', 'postgres://postgres@127.0.0.1:5432/test')
    .option('--redis-url <url>', 'Redis for --processes above 1', 'redis://127.0.0.1:6379')
    .option('--processes <n>', 'Parley processes on PostgreSQL + Redis, members spread over them', bounded(1, 8), 1)
    .option('--no-baseline', 'skip the baseline server')
    .option('--threads <n>', 'generator worker threads (0: the main thread)', bounded(0, 16), 2)
    .option('--in-process', 'run the servers inside the bench process: no pinning, no server figures (debugging)')
    .option('--no-pin', 'do not pin the server to CPU 0 and the generator to CPU 1')
    .option('--messages <n>', 'history: messages in the conversation', bounded(100, 10_000_000), 1_000_000)
    .option('--samples <n>', 'history: timed requests per kind of page', bounded(10, 100_000), 1000)
    .option('--cpu-prof-dir <dir>', 'write a CPU profile of each measured window of each server process the bench starts (Parley and the baseline) into <dir>')
    .option('--json', 'print one JSON object per step (and a summary after a sweep) instead of a table')
    .addHelpText(
      'after',
      '\nWithout --url the bench starts the baseline and Parley itself, pinned with taskset, and stops them at the end.' +
        '\nThe method and the latest figures are in docs/benchmarks.md.',
    )
    .action(async (flags: BenchFlags) => {
      const defaults = SCENARIO_DEFAULTS[flags.scenario];
      const rooms = flags.rooms ?? defaults.rooms;
      const members = flags.members ?? defaults.members;
      if (rooms * members > MAX_TOTAL_MEMBERS) {
        throw new CliError(`--rooms x --members is ${rooms * members}: at most ${MAX_TOTAL_MEMBERS} connections`, EXIT_USAGE);
      }
      if (flags.url !== undefined && flags.scenario === 'history') {
        throw new CliError('the history scenario fills its own store: run it without --url', EXIT_USAGE);
      }
      if (flags.url !== undefined && (flags.store !== 'sqlite' || flags.processes > 1 || flags.inProcess)) {
        throw new CliError('--store, --processes and --in-process choose how the bench starts Parley: they do not apply with --url', EXIT_USAGE);
      }
      const storeBothProblem = storeBothRefusal({ store: flags.store, url: flags.url, processes: flags.processes, scenario: flags.scenario });
      if (storeBothProblem !== undefined) throw new CliError(storeBothProblem, EXIT_USAGE);
      const adminKey = flags.adminKey ?? env['PARLEY_ADMIN_KEY'];
      if (flags.url !== undefined && (adminKey === undefined || adminKey === '')) {
        throw new CliError('--url needs --admin-key (or PARLEY_ADMIN_KEY) to set up users and rooms', EXIT_USAGE);
      }
      const options: BenchOptions = {
        scenario: flags.scenario,
        ...(flags.url !== undefined ? { url: flags.url, adminKey } : {}),
        rooms,
        members,
        rate: flags.rate ?? defaults.rate,
        durationS: flags.duration,
        warmupS: flags.warmup,
        drainS: flags.drain,
        sweep: flags.sweep === true,
        maxSteps: flags.maxSteps,
        retries: flags.retries,
        p99BoundMs: flags.p99Bound,
        store: flags.store,
        databaseUrl: flags.databaseUrl,
        redisUrl: flags.redisUrl,
        processes: flags.processes,
        baseline: flags.baseline,
        threads: flags.threads,
        inProcess: flags.inProcess === true,
        pin: flags.pin,
        historyMessages: flags.messages,
        historySamples: flags.samples,
        ...(flags.cpuProfDir !== undefined ? { cpuProfDir: resolve(flags.cpuProfDir) } : {}),
      };
      const steps: StepRow[] = [];
      const idle: IdleRow[] = [];
      const history: HistoryRow[] = [];
      let result;
      try {
        result = await untilInterrupted(runBench(options, {
          note: (text) => io.stderr(`${text}\n`),
          row: (row) => {
            if (flags.json) io.stdout(`${JSON.stringify(row)}\n`);
            else if (row.kind === 'step') {
              steps.push(row);
              io.stderr(`  ${row.target} step ${row.step}: p99 ${row.p99_ms} ms, ${row.deliveries_per_s} deliveries/s, lost ${row.lost}\n`);
            } else if (row.kind === 'idle') idle.push(row);
            else if (row.kind === 'history') history.push(row);
          },
        }));
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (flags.json) return;
      io.stdout(options.scenario === 'idle' ? formatIdle(idle) : options.scenario === 'history' ? formatHistory(history) : formatSteps(steps));
      const s = result.summary;
      if (s) {
        io.stdout(
          `Sustainable rate (p99 < ${s.p99_bound_ms} ms, nothing lost): Parley ${s.parley_sustainable_rate ?? 'none'} msg/s, ` +
            `baseline ${s.baseline_sustainable_rate ?? 'none'} msg/s, ratio ${s.sustainable_rate_ratio ?? '-'}\n`,
        );
        if (options.store === 'both') {
          io.stdout(
            `Parley on PostgreSQL: ${s.parley_postgres_sustainable_rate ?? 'none'} msg/s, ` +
              `${s.postgres_sqlite_ratio ?? '-'} of Parley on SQLite in this run\n`,
          );
        }
      }
    });
}
