import { describe, expect, it } from 'vitest';
import { DeliveryLedger, RateSweep, assertLoopback, benchContent, countLoss, parseBenchMarker } from '@parley/cli';

describe('DeliveryLedger and countLoss', () => {
  it('counts each (message, member) once, and the rest as duplicates', () => {
    const ledger = new DeliveryLedger(10, 3);
    expect(ledger.record(0, 4)).toBe(true);
    expect(ledger.record(1, 4)).toBe(true);
    expect(ledger.record(0, 4)).toBe(false);
    expect(ledger.record(0, 4)).toBe(false);
    expect(ledger.record(2, 9)).toBe(true);
    expect([ledger.delivered, ledger.duplicates, ledger.stray]).toEqual([3, 2, 0]);
    expect([...ledger.receivedBy]).toEqual([0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
  });

  it('counts indexes outside the step, and unknown members, as stray rather than deliveries', () => {
    const ledger = new DeliveryLedger(5, 2);
    for (const [member, index] of [
      [0, 5],
      [0, -1],
      [0, 1.5],
      [2, 0],
    ] as const) {
      expect(ledger.record(member, index)).toBe(false);
    }
    expect([ledger.delivered, ledger.duplicates, ledger.stray]).toEqual([0, 0, 4]);
  });

  it('adds up the shards and counts every member a message never reached', () => {
    // 4 messages, 3 members per room; two shards hold the members.
    const a = new DeliveryLedger(4, 2);
    const b = new DeliveryLedger(4, 1);
    for (const i of [0, 1, 2, 3]) a.record(0, i);
    for (const i of [0, 1, 3]) a.record(1, i);
    for (const i of [0, 3]) b.record(0, i);
    b.record(0, 3);
    expect(countLoss([a.receivedBy, b.receivedBy], 4, () => 3)).toEqual({ expected: 12, delivered: 9, lost: 3 });
    expect(a.duplicates + b.duplicates).toBe(1);
  });

  it('uses each message\'s own expected count (rooms of different sizes)', () => {
    const received = [Uint16Array.from([2, 5, 0])];
    expect(countLoss(received, 3, (i) => [2, 5, 1][i]!)).toEqual({ expected: 8, delivered: 7, lost: 1 });
  });
});

describe('the bench marker', () => {
  it('round-trips through a delivered frame', () => {
    const content = benchContent(3, 1234, 1_700_000_000_123.25);
    const frame = Buffer.from(`{"type":"event","event":{"data":{"message":{"content":"${content}","seq":9}}}}`);
    expect(parseBenchMarker(frame)).toEqual({ step: 3, index: 1234, dueAt: 1_700_000_000_123.25 });
  });

  it('ignores frames without a well-formed marker', () => {
    expect(parseBenchMarker(Buffer.from('{"type":"event","event":{"type":"member.added"}}'))).toBeUndefined();
    expect(parseBenchMarker(Buffer.from('{"content":"#bench:1:x:5"}'))).toBeUndefined();
    expect(parseBenchMarker(Buffer.from('{"content":"#bench:1:2"}'))).toBeUndefined();
  });
});

describe('RateSweep', () => {
  const runSweep = (capacity: number, options: { startRate: number; maxSteps: number }): { tried: number[]; sweep: RateSweep } => {
    const sweep = new RateSweep(options);
    const tried: number[] = [];
    for (let rate = sweep.next(); rate !== undefined; rate = sweep.next()) {
      tried.push(rate);
      sweep.record(rate, rate <= capacity);
    }
    return { tried, sweep };
  };

  it('doubles while passing, then bisects to within 5% of the limit', () => {
    const { tried, sweep } = runSweep(5300, { startRate: 1000, maxSteps: 20 });
    expect(tried.slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
    expect(tried[4]).toBe(6000);
    const found = sweep.sustainable!;
    expect(found).toBeLessThanOrEqual(5300);
    expect(found).toBeGreaterThanOrEqual(5300 * 0.95);
  });

  it('stops after the step budget, keeping the best rate that passed', () => {
    const { tried, sweep } = runSweep(100_000, { startRate: 500, maxSteps: 3 });
    expect(tried).toEqual([500, 1000, 2000]);
    expect(sweep.sustainable).toBe(2000);
    expect(sweep.steps).toBe(3);
  });

  it('bisects downwards when even the first rate fails, and reports none if nothing passes', () => {
    expect(runSweep(300, { startRate: 1000, maxSteps: 10 }).tried.slice(0, 3)).toEqual([1000, 500, 250]);
    const { sweep } = runSweep(0, { startRate: 100, maxSteps: 4 });
    expect(sweep.sustainable).toBeUndefined();
  });
});

describe('assertLoopback', () => {
  it('accepts this machine only', () => {
    for (const ok of ['http://127.0.0.1:8080', 'http://localhost:1', 'postgres://postgres@127.0.0.1:5432/test', 'redis://127.3.4.5:6379', 'http://[::1]:80']) {
      expect(() => assertLoopback('--url', ok)).not.toThrow();
    }
    for (const bad of ['http://10.0.0.1:8080', 'https://chat.example.com', 'postgres://db.internal/x', 'not a url']) {
      expect(() => assertLoopback('--url', bad)).toThrow(/--url/);
    }
  });
});
