import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { benchNow } from './bench-clock.js';
import { countLoss } from './delivery-ledger.js';
import type { BenchMember, ShardCommand, ShardReply, ShardResult, StepSpec } from './generator-protocol.js';
import { GeneratorShard } from './generator-shard.js';
import { LatencyHistogram } from './latency-histogram.js';
import { OpenLoopSchedule, type OpenLoopPlan } from './open-loop-schedule.js';
import { ownCpuSeconds, type ProcessSample } from './process-stats.js';
import type { LoopStats } from './loop-probe-protocol.js';
import type { LoopProbe } from './server-process.js';

type ReplyType = ShardReply['type'];
const REPLY_OF: Record<ShardCommand['type'], ReplyType> = { connect: 'connected', reconnect: 'connected', step: 'sent', poll: 'progress', collect: 'result', close: 'closed' };
// Time for the step command to reach every shard before message 0 is due.
const LEAD_MS = 300;
const POLL_MS = 100;

/** A shard as the coordinator sees it: commands out, one typed reply back per command. */
class ShardLink {
  readonly #pending = new Map<ReplyType, { resolve: (reply: ShardReply) => void; reject: (err: Error) => void }[]>();
  #gone: Error | undefined;

  constructor(
    private readonly port: Worker | MessagePort,
    private readonly dispose: () => Promise<void>,
  ) {
    port.on('message', (reply: ShardReply) => {
      if (reply.type === 'failed') return this.#failAll(new Error(`generator thread failed: ${reply.message}`));
      this.#pending.get(reply.type)?.shift()?.resolve(reply);
    });
    port.on('error', (err: Error) => this.#failAll(err));
    // A thread that is gone answers nothing: fail what waits, and whatever is asked later.
    port.once(port instanceof Worker ? 'exit' : 'close', () => {
      this.#gone ??= new Error('the generator thread stopped');
      this.#failAll(this.#gone);
    });
  }

  #failAll(err: Error): void {
    this.#gone ??= err;
    for (const queue of this.#pending.values()) for (const p of queue.splice(0)) p.reject(err);
  }

  request<T extends ReplyType>(command: ShardCommand): Promise<Extract<ShardReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.#gone) return reject(this.#gone);
      const type = REPLY_OF[command.type];
      const queue = this.#pending.get(type) ?? [];
      this.#pending.set(type, queue);
      queue.push({ resolve: (reply) => resolve(reply as Extract<ShardReply, { type: T }>), reject });
      this.port.postMessage(command);
    });
  }

  close(): Promise<void> {
    return this.dispose();
  }
}

/** Each figure's worst over the processes; undefined unless every process answered. */
function worstLoop(stats: readonly (LoopStats | undefined)[]): LoopStats | undefined {
  if (stats.length === 0 || stats.some((s) => s === undefined)) return undefined;
  const all = stats as readonly LoopStats[];
  const worst = (pick: (s: LoopStats) => number): number => Math.max(...all.map(pick));
  return {
    delayP99Ms: worst((s) => s.delayP99Ms),
    delayMaxMs: worst((s) => s.delayMaxMs),
    utilization: worst((s) => s.utilization),
  };
}

/** What one step measured, before it is shaped into a report row. */
export interface StepMeasurement {
  plan: OpenLoopPlan;
  scheduled: number;
  sentRate: number;
  achievedRate: number;
  deliveriesPerSecond: number;
  histogram: LatencyHistogram;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  stray: number;
  misrouted: number;
  sendErrors: number;
  firstError: string | undefined;
  disconnects: string[];
  generatorLagMaxMs: number;
  generatorCpuPct: number;
  server: { cpuPct: number; rssMb: number } | undefined;
  /** The server's event loop over the window (the worst process's figure of each); undefined when not probed. */
  loop: LoopStats | undefined;
}

export interface GeneratorOptions {
  /** Worker threads; 0 runs the one shard in the calling thread (tests, debugging). */
  threads: number;
  /** Where the compiled worker entry is; required when `threads > 0`. */
  workerUrl?: URL;
}

export interface StepOptions {
  step: number;
  plan: OpenLoopPlan;
  rooms: number;
  /** How long to wait after the last send for deliveries still on their way. */
  drainMs: number;
  /** Samples the server process(es) at the window's edges, when the bench knows them. */
  sampleServer?: () => ProcessSample | undefined;
  /** The event loops of the server process(es), reset when the window opens and read when it closes. */
  loops?: readonly LoopProbe[];
}

/**
 * The load generator: members are dealt in contiguous blocks to shards (worker threads), each of which
 * connects its members and sends its part of the open-loop schedule; the coordinator starts every step
 * on one clock, waits for the deliveries to drain, and merges the shards' histograms and ledgers.
 */
export class BenchGenerator {
  readonly #links: ShardLink[];
  #members: BenchMember[] = [];

  private constructor(links: ShardLink[]) {
    this.#links = links;
  }

  static create(options: GeneratorOptions): BenchGenerator {
    if (options.threads <= 0) {
      const { port1, port2 } = new MessageChannel();
      const shard = new GeneratorShard((reply, transfer) => port2.postMessage(reply, transfer ?? []));
      port2.on('message', (command: ShardCommand) => shard.handle(command));
      return new BenchGenerator([
        new ShardLink(port1, async () => {
          port1.close();
          port2.close();
        }),
      ]);
    }
    const { workerUrl } = options;
    if (!workerUrl) throw new Error('worker threads need the compiled worker entry');
    return new BenchGenerator(
      Array.from({ length: options.threads }, () => {
        const worker = new Worker(workerUrl);
        return new ShardLink(worker, async () => {
          await worker.terminate();
        });
      }),
    );
  }

  get members(): readonly BenchMember[] {
    return this.#members;
  }

  /**
   * Opens every member's connection (adding to those opened before); resolves when all said hello, or
   * lists those that failed.
   */
  async connect(members: BenchMember[], concurrency = 64): Promise<{ connected: number; failures: string[] }> {
    const sorted = [...members].sort((a, b) => a.index - b.index);
    this.#members = [...this.#members, ...sorted].sort((a, b) => a.index - b.index);
    const per = Math.ceil(sorted.length / this.#links.length);
    const replies = await Promise.all(
      this.#links.map((link, i) =>
        link.request<'connected'>({ type: 'connect', members: sorted.slice(i * per, (i + 1) * per), concurrency: Math.ceil(concurrency / this.#links.length) }),
      ),
    );
    return { connected: replies.reduce((n, r) => n + r.connected, 0), failures: replies.flatMap((r) => r.failures) };
  }

  /** Reopens the connections the server closed since they connected; resolves to how many, and the failures. */
  async reconnect(concurrency = 64): Promise<{ reconnected: number; failures: string[] }> {
    const replies = await Promise.all(this.#links.map((l) => l.request<'connected'>({ type: 'reconnect', concurrency: Math.ceil(concurrency / this.#links.length) })));
    return { reconnected: replies.reduce((n, r) => n + r.connected, 0), failures: replies.flatMap((r) => r.failures) };
  }

  /** Sockets still open, and the disconnects seen since the last call. */
  async progress(): Promise<{ delivered: number; frames: number; open: number; disconnects: string[] }> {
    const replies = await Promise.all(this.#links.map((l) => l.request<'progress'>({ type: 'poll' })));
    return {
      delivered: replies.reduce((n, r) => n + r.delivered, 0),
      frames: replies.reduce((n, r) => n + r.frames, 0),
      open: replies.reduce((n, r) => n + r.open, 0),
      disconnects: replies.flatMap((r) => r.disconnects),
    };
  }

  async runStep(options: StepOptions): Promise<StepMeasurement> {
    const { plan } = options;
    const schedule = new OpenLoopSchedule(plan);
    const roomSize = new Map<number, number>();
    for (const m of this.#members) roomSize.set(m.room, (roomSize.get(m.room) ?? 0) + 1);
    const expectedOf = (i: number): number => roomSize.get(schedule.senderOf(i) % options.rooms) ?? 0;
    let expectedTotal = 0;
    for (let i = 0; i < schedule.total; i += 1) expectedTotal += expectedOf(i);

    const startAt = benchNow() + LEAD_MS;
    const spec: StepSpec = { step: options.step, plan, rooms: options.rooms, startAt };
    const windowStart = startAt + plan.warmupMs;
    const windowEnd = windowStart + plan.durationMs;
    const edges = { cpu: [0, 0], server: [undefined, undefined] as (ProcessSample | undefined)[], wall: [0, 0] };
    const sampleAt = (at: number, k: 0 | 1): Promise<void> =>
      new Promise((resolve) =>
        setTimeout(
          () => {
            edges.wall[k] = benchNow();
            edges.cpu[k] = ownCpuSeconds();
            edges.server[k] = options.sampleServer?.();
            if (k === 0) for (const loop of options.loops ?? []) loop.reset();
            resolve();
          },
          Math.max(0, at - benchNow()),
        ),
      );
    const sampled = Promise.all([sampleAt(windowStart, 0), sampleAt(windowEnd, 1)]);

    const sent = await Promise.all(this.#links.map((l) => l.request<'sent'>({ type: 'step', spec })));
    await sampled;
    const loop = worstLoop(await Promise.all((options.loops ?? []).map((l) => l.read())));
    const disconnects: string[] = [];
    const drainUntil = benchNow() + options.drainMs;
    for (;;) {
      const p = await this.progress();
      disconnects.push(...p.disconnects);
      if (p.delivered >= expectedTotal || benchNow() >= drainUntil) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const results: ShardResult[] = await Promise.all(this.#links.map((l) => l.request<'result'>({ type: 'collect' })));

    const histogram = new LatencyHistogram();
    for (const r of results) histogram.merge(r.histogram);
    const loss = countLoss(
      results.map((r) => r.receivedBy),
      schedule.total,
      expectedOf,
    );
    const seconds = plan.durationMs / 1000;
    const wall = Math.max(1e-9, ((edges.wall[1] ?? 0) - (edges.wall[0] ?? 0)) / 1000);
    const [s0, s1] = edges.server;
    const sum = (pick: (r: ShardResult) => number): number => results.reduce((n, r) => n + pick(r), 0);
    return {
      plan,
      scheduled: schedule.total,
      sentRate: sum((r) => r.sentInWindow) / seconds,
      achievedRate: sum((r) => r.acksInWindow) / seconds,
      deliveriesPerSecond: sum((r) => r.deliveriesInWindow) / seconds,
      histogram,
      expected: loss.expected,
      delivered: loss.delivered,
      lost: loss.lost,
      duplicated: sum((r) => r.duplicates),
      stray: sum((r) => r.stray),
      misrouted: sum((r) => r.misrouted),
      sendErrors: sum((r) => r.sendErrors),
      firstError: results.find((r) => r.firstError !== undefined)?.firstError,
      disconnects,
      generatorLagMaxMs: Math.max(0, ...sent.map((s) => s.maxLagMs)),
      generatorCpuPct: (((edges.cpu[1] ?? 0) - (edges.cpu[0] ?? 0)) / wall) * 100,
      server: s0 && s1 ? { cpuPct: ((s1.cpuSeconds - s0.cpuSeconds) / wall) * 100, rssMb: s1.rssBytes / (1024 * 1024) } : undefined,
      loop,
    };
  }

  /** Closes every connection and stops the threads. */
  async close(): Promise<void> {
    await Promise.all(this.#links.map((l) => l.request<'closed'>({ type: 'close' }).catch(() => undefined)));
    await Promise.all(this.#links.map((l) => l.close()));
  }
}
