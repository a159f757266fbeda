import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { BenchGenerator, OpenLoopSchedule, runOpenLoop, type BenchMember } from '@parley/cli';

describe('OpenLoopSchedule', () => {
  it('spreads the rate evenly over time and over the senders', () => {
    const s = new OpenLoopSchedule({ ratePerSecond: 100, warmupMs: 1000, durationMs: 2000, senders: 7 });
    expect(s.total).toBe(300);
    expect([s.offsetMs(0), s.offsetMs(1), s.offsetMs(150), s.offsetMs(299)]).toEqual([0, 10, 1500, 2990]);
    expect([0, 1, 6, 7, 8, 299].map((i) => s.senderOf(i))).toEqual([0, 1, 6, 0, 1, 5]);
    // The warm-up is the first second: messages 0…99.
    expect([s.isMeasured(99), s.isMeasured(100)]).toEqual([false, true]);
  });

  it('deals every message to exactly one sender range, in due order', () => {
    const s = new OpenLoopSchedule({ ratePerSecond: 250, warmupMs: 0, durationMs: 1000, senders: 10 });
    const parts = [s.indicesFor(0, 3), s.indicesFor(3, 4), s.indicesFor(4, 10)];
    for (const part of parts) expect([...part]).toEqual([...part].sort((a, b) => a - b));
    expect([...parts[1]!]).toEqual(Array.from({ length: 25 }, (_, c) => c * 10 + 3));
    expect(parts.flatMap((p) => [...p]).sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('handles rates below one message per second and more senders than messages', () => {
    const slow = new OpenLoopSchedule({ ratePerSecond: 0.5, warmupMs: 0, durationMs: 4000, senders: 3 });
    expect(slow.total).toBe(2);
    expect(slow.offsetMs(1)).toBe(2000);
    const wide = new OpenLoopSchedule({ ratePerSecond: 10, warmupMs: 0, durationMs: 300, senders: 1000 });
    expect(wide.total).toBe(3);
    expect([...wide.indicesFor(0, 1000)]).toEqual([0, 1, 2]);
    expect([...wide.indicesFor(500, 1000)]).toEqual([]);
  });

  it('refuses a plan without rate, senders or duration', () => {
    expect(() => new OpenLoopSchedule({ ratePerSecond: 0, warmupMs: 0, durationMs: 1000, senders: 1 })).toThrow(RangeError);
    expect(() => new OpenLoopSchedule({ ratePerSecond: 10, warmupMs: 0, durationMs: 1000, senders: 0 })).toThrow(RangeError);
    expect(() => new OpenLoopSchedule({ ratePerSecond: 10, warmupMs: 0, durationMs: 0, senders: 1 })).toThrow(RangeError);
  });
});

describe('runOpenLoop', () => {
  it('fires each send in order, never before it is due, and catches up at once on overdue ones', async () => {
    const start = performance.now();
    // Two already overdue, then three in the future.
    const dueAt = [start - 50, start - 10, start + 5, start + 10, start + 30];
    const fired: { k: number; at: number }[] = [];
    const run = await runOpenLoop(dueAt, (k) => fired.push({ k, at: performance.now() }), () => performance.now());
    expect(run.sent).toBe(5);
    expect(fired.map((f) => f.k)).toEqual([0, 1, 2, 3, 4]);
    for (const f of fired) expect(f.at).toBeGreaterThanOrEqual(dueAt[f.k]!);
    expect(run.maxLagMs).toBeGreaterThanOrEqual(50);
  });
});

describe('the generator against a server that never answers', () => {
  let wss: WebSocketServer | undefined;
  afterEach(async () => {
    for (const c of wss?.clients ?? []) c.terminate();
    await new Promise((r) => wss?.close(r));
  });

  it('still sends every scheduled message, on schedule, and counts every delivery as lost', async () => {
    // Says hello (so members count as connected), then swallows every frame: no ack, no event.
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    let received = 0;
    wss.on('connection', (ws: WebSocket) => {
      ws.on('message', () => (received += 1));
      ws.send('{"type":"hello"}');
    });
    const address = wss.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const members: BenchMember[] = Array.from({ length: 4 }, (_, k) => ({ index: k, room: k % 2, conversationId: `r${k % 2}`, url: `ws://127.0.0.1:${port}/` }));
    const generator = BenchGenerator.create({ threads: 0 });
    try {
      expect(await generator.connect(members)).toEqual({ connected: 4, failures: [] });
      const m = await generator.runStep({ step: 1, plan: { ratePerSecond: 100, warmupMs: 0, durationMs: 1000, senders: 4 }, rooms: 2, drainMs: 300 });
      expect(m.scheduled).toBe(100);
      await vi.waitFor(() => expect(received).toBe(100));
      // Each message should have reached the two members of its room.
      expect(m).toMatchObject({ expected: 200, delivered: 0, lost: 200, duplicated: 0, sendErrors: 0, achievedRate: 0 });
      // Counted by when the sends left: all within the window unless this machine is very busy.
      expect(m.sentRate).toBeGreaterThan(0);
      expect(m.sentRate).toBeLessThanOrEqual(100);
      expect(m.histogram.count).toBe(0);
    } finally {
      await generator.close();
    }
  });
});
