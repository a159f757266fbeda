import WebSocket, { type RawData } from 'ws';
import { benchNow } from './bench-clock.js';
import { DeliveryLedger } from './delivery-ledger.js';
import type { BenchMember, ShardCommand, ShardReply, StepCounters, StepSpec } from './generator-protocol.js';
import { inParallel } from './in-parallel.js';
import { LatencyHistogram } from './latency-histogram.js';
import { OpenLoopSchedule, runOpenLoop } from './open-loop-schedule.js';

/** The marker in a bench message's content: `#bench:<step>:<index>:<dueAt>`. */
const MARKER = Buffer.from('#bench:');
const EVENT_PREFIX = Buffer.from('{"type":"event"');
const ACK_PREFIX = Buffer.from('{"type":"ack"');
const ERROR_PREFIX = Buffer.from('{"type":"error"');
const HELLO_PREFIX = Buffer.from('{"type":"hello"');
const CONNECT_TIMEOUT_MS = 30_000;

/** The content of bench message `index` of `step`, due at `dueAt` ({@link benchNow} ms). */
export function benchContent(step: number, index: number, dueAt: number): string {
  return `#bench:${step}:${index}:${dueAt.toFixed(3)}`;
}

/**
 * Reads `#bench:<step>:<index>:<dueAt>` out of a frame without parsing the JSON around it (the
 * generator reads every delivery, so this is its hot path). Undefined when the frame has no marker.
 */
export function parseBenchMarker(frame: Buffer): { step: number; index: number; dueAt: number } | undefined {
  const at = frame.indexOf(MARKER);
  if (at < 0) return undefined;
  const parts: number[] = [];
  let start = at + MARKER.length;
  for (let i = start; i <= frame.length; i += 1) {
    const c = i < frame.length ? frame[i] : 0x22;
    if (c === 0x3a || c === 0x22) {
      parts.push(Number(frame.toString('latin1', start, i)));
      start = i + 1;
      if (c === 0x22 || parts.length === 3) break;
    }
  }
  const [step, index, dueAt] = parts;
  if (step === undefined || index === undefined || dueAt === undefined || [step, index, dueAt].some(Number.isNaN)) return undefined;
  return { step, index, dueAt };
}

const startsWith = (buf: Buffer, prefix: Buffer): boolean => buf.length >= prefix.length && buf.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;

interface Conn {
  member: BenchMember;
  local: number;
  ws: WebSocket;
}

interface StepState extends StepCounters {
  spec: StepSpec;
  schedule: OpenLoopSchedule;
  ledger: DeliveryLedger;
  histogram: LatencyHistogram;
  windowStart: number;
  windowEnd: number;
}

/**
 * One generator thread's share of the members: it opens their connections, sends their part of the
 * open-loop schedule and records every delivery to them. It talks to the coordinator only through
 * `post` and {@link GeneratorShard.handle}, so it runs the same in a worker thread or in the caller's.
 */
export class GeneratorShard {
  readonly #conns: Conn[] = [];
  #step: StepState | undefined;
  #frames = 0;
  readonly #disconnects: string[] = [];

  constructor(private readonly post: (reply: ShardReply, transfer?: ArrayBuffer[]) => void) {}

  handle(command: ShardCommand): void {
    this.#run(command).catch((err: unknown) => this.post({ type: 'failed', message: err instanceof Error ? err.message : String(err) }));
  }

  async #run(command: ShardCommand): Promise<void> {
    switch (command.type) {
      case 'connect':
        return this.#connectAll(command.members, command.concurrency);
      case 'reconnect':
        return this.#reconnectClosed(command.concurrency);
      case 'step':
        return this.#runStep(command.spec);
      case 'poll': {
        const open = this.#conns.filter((c) => c.ws.readyState === WebSocket.OPEN).length;
        this.post({ type: 'progress', delivered: this.#step?.ledger.delivered ?? 0, frames: this.#frames, open, disconnects: this.#disconnects.splice(0) });
        return;
      }
      case 'collect':
        return this.#collect();
      case 'close':
        await Promise.all(this.#conns.map((c) => closeSocket(c.ws)));
        this.#conns.length = 0;
        this.post({ type: 'closed' });
    }
  }

  async #connectAll(members: BenchMember[], concurrency: number): Promise<void> {
    const failures: string[] = [];
    const opened = await inParallel(members, concurrency, (member) => this.#open(member).catch((err: unknown) => void failures.push(failure(member, err))));
    let connected = 0;
    members.forEach((member, i) => {
      const ws = opened[i];
      if (!ws) return;
      const conn: Conn = { member, local: this.#conns.length, ws };
      this.#conns.push(conn);
      this.#listen(conn);
      connected += 1;
    });
    this.post({ type: 'connected', connected, failures });
  }

  /** Opens again, live only, the connections the server closed (a slow consumer cut off, say). */
  async #reconnectClosed(concurrency: number): Promise<void> {
    const closed = this.#conns.filter((c) => c.ws.readyState === WebSocket.CLOSED || c.ws.readyState === WebSocket.CLOSING);
    const failures: string[] = [];
    await inParallel(closed, concurrency, async (conn) => {
      try {
        conn.ws.terminate();
        conn.ws = await this.#open(conn.member);
        this.#listen(conn);
      } catch (err) {
        failures.push(failure(conn.member, err));
      }
    });
    this.post({ type: 'connected', connected: closed.length - failures.length, failures });
  }

  /** From hello on, every frame of the connection goes to the step's accounting. */
  #listen(conn: Conn): void {
    conn.ws.removeAllListeners('message').on('message', (data, isBinary) => this.#onFrame(conn, data, isBinary));
  }

  /** Opens one member's connection and resolves once the server said hello (Parley: the member is live). */
  #open(member: BenchMember): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(member.url, member.protocols ?? [], {
        headers: member.headers ?? {},
        perMessageDeflate: false,
        // The generator reads every delivery; checking each for valid UTF-8 is work the measurement does not need.
        skipUTF8Validation: true,
        handshakeTimeout: CONNECT_TIMEOUT_MS,
        ...(member.localAddress !== undefined ? { localAddress: member.localAddress } : {}),
      });
      let settled = false;
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        ws.terminate();
        reject(new Error(why));
      };
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => fail(`upgrade refused: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
      });
      ws.on('error', (err) => fail(err.message));
      ws.on('close', (code, reason) => {
        if (!settled) return fail(`closed before hello: ${code} ${reason.toString()}`);
        this.#disconnects.push(`member ${member.index}: closed ${code} ${reason.toString()}`.trim());
      });
      ws.on('message', (data: RawData) => {
        if (settled) return;
        if (startsWith(toBuffer(data), HELLO_PREFIX)) {
          settled = true;
          resolve(ws);
        }
      });
    });
  }

  #onFrame(conn: Conn, data: RawData, isBinary: boolean): void {
    const now = benchNow();
    this.#frames += 1;
    const step = this.#step;
    if (!step || isBinary) return;
    const frame = toBuffer(data);
    if (startsWith(frame, EVENT_PREFIX)) {
      const marker = parseBenchMarker(frame);
      if (!marker) return;
      if (marker.step !== step.spec.step) {
        step.ledger.stray += 1;
        return;
      }
      if (!step.ledger.record(conn.local, marker.index)) return;
      if (step.schedule.senderOf(marker.index) % step.spec.rooms !== conn.member.room) step.misrouted += 1;
      if (now >= step.windowStart && now < step.windowEnd) step.deliveriesInWindow += 1;
      if (step.schedule.isMeasured(marker.index)) step.histogram.recordMs(now - marker.dueAt);
    } else if (startsWith(frame, ACK_PREFIX)) {
      if (now >= step.windowStart && now < step.windowEnd) step.acksInWindow += 1;
    } else if (startsWith(frame, ERROR_PREFIX)) {
      step.sendErrors += 1;
      step.firstError ??= frame.toString('utf8', 0, Math.min(frame.length, 300));
    }
  }

  async #runStep(spec: StepSpec): Promise<void> {
    const schedule = new OpenLoopSchedule(spec.plan);
    const step: StepState = {
      spec,
      schedule,
      ledger: new DeliveryLedger(schedule.total, this.#conns.length),
      histogram: new LatencyHistogram(),
      windowStart: spec.startAt + spec.plan.warmupMs,
      windowEnd: spec.startAt + spec.plan.warmupMs + spec.plan.durationMs,
      misrouted: 0,
      sentInWindow: 0,
      acksInWindow: 0,
      deliveriesInWindow: 0,
      sendErrors: 0,
      firstError: undefined,
      maxLagMs: 0,
    };
    this.#step = step;
    // This shard's members are a contiguous range of global member numbers (the coordinator deals them so).
    const bySender = new Map(this.#conns.map((c) => [c.member.index, c]));
    const indexes = [...bySender.keys()];
    const from = Math.min(...indexes);
    const to = Math.max(...indexes) + 1;
    const mine = indexes.length === 0 ? new Uint32Array(0) : schedule.indicesFor(from, to).filter((i) => bySender.has(schedule.senderOf(i)));
    const dueAt = Float64Array.from(mine, (i) => spec.startAt + schedule.offsetMs(i));
    const run = await runOpenLoop(
      dueAt,
      (k) => {
        const index = mine[k] as number;
        const conn = bySender.get(schedule.senderOf(index));
        if (!conn || conn.ws.readyState !== WebSocket.OPEN) {
          step.sendErrors += 1;
          step.firstError ??= `member ${schedule.senderOf(index)} is not connected`;
          return;
        }
        const due = dueAt[k] as number;
        conn.ws.send(
          `{"type":"send","conversationId":${JSON.stringify(conn.member.conversationId)},"message":{"content":"${benchContent(spec.step, index, due)}"}}`,
        );
        const now = benchNow();
        if (now >= step.windowStart && now < step.windowEnd) step.sentInWindow += 1;
      },
      benchNow,
    );
    step.maxLagMs = run.maxLagMs;
    this.post({ type: 'sent', sent: run.sent, maxLagMs: run.maxLagMs });
  }

  #collect(): void {
    const step = this.#step;
    if (!step) throw new Error('no step to collect');
    const { ledger } = step;
    const receivedBy = ledger.receivedBy;
    this.post(
      {
        type: 'result',
        histogram: step.histogram.snapshot(),
        receivedBy,
        duplicates: ledger.duplicates,
        stray: ledger.stray,
        misrouted: step.misrouted,
        sentInWindow: step.sentInWindow,
        acksInWindow: step.acksInWindow,
        deliveriesInWindow: step.deliveriesInWindow,
        sendErrors: step.sendErrors,
        firstError: step.firstError,
        maxLagMs: step.maxLagMs,
      },
      [receivedBy.buffer as ArrayBuffer],
    );
    this.#step = undefined;
  }
}

const failure = (member: BenchMember, err: unknown): string => `member ${member.index}: ${err instanceof Error ? err.message : String(err)}`;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 2000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(1000, 'bench done');
  });
}
