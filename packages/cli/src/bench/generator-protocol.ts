import type { HistogramSnapshot } from './latency-histogram.js';
import type { OpenLoopPlan } from './open-loop-schedule.js';

/** One simulated member: its own WebSocket connection, authenticated (Parley) or not (baseline). */
export interface BenchMember {
  /** Global member number: it sends messages `index`, `index + members`, … of each step. */
  index: number;
  /** Room number, 0…rooms-1. */
  room: number;
  /** The conversation id the member sends to. */
  conversationId: string;
  url: string;
  headers?: Record<string, string>;
  protocols?: string[];
  /** Source address (127.x.y.z) when one address runs out of ephemeral ports. */
  localAddress?: string;
}

export interface StepSpec {
  step: number;
  plan: OpenLoopPlan;
  /** Rooms the members are spread over (member `k` is in room `k mod rooms`). */
  rooms: number;
  /** When message 0 is due, on the {@link benchNow} clock. */
  startAt: number;
}

/** What the coordinator asks a generator shard (a worker thread). */
export type ShardCommand =
  | { type: 'connect'; members: BenchMember[]; concurrency: number }
  /** Opens again the connections the server closed (e.g. as slow consumers), live only, without replay. */
  | { type: 'reconnect'; concurrency: number }
  | { type: 'step'; spec: StepSpec }
  | { type: 'poll' }
  | { type: 'collect' }
  | { type: 'close' };

/** What a shard counts during a step, besides its ledger and histogram. */
export interface StepCounters {
  /** Deliveries to a member of another room than the sender's. */
  misrouted: number;
  sentInWindow: number;
  acksInWindow: number;
  deliveriesInWindow: number;
  sendErrors: number;
  firstError: string | undefined;
  maxLagMs: number;
}

export interface ShardResult extends StepCounters {
  histogram: HistogramSnapshot;
  /** Per message of the step: how many of this shard's members received it (each once). */
  receivedBy: Uint16Array;
  duplicates: number;
  stray: number;
}

/** What a shard answers. */
export type ShardReply =
  | { type: 'connected'; connected: number; failures: string[] }
  | { type: 'sent'; sent: number; maxLagMs: number }
  | { type: 'progress'; delivered: number; frames: number; open: number; disconnects: string[] }
  | ({ type: 'result' } & ShardResult)
  | { type: 'closed' }
  | { type: 'failed'; message: string };
