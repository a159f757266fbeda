import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, BusMessage } from '../../src/bus/index.js';
import type { ConversationId, EventId, EventRecord, UserId } from '../../src/domain/index.js';

export interface BusImpl {
  name: string;
  /** Several buses on one medium (processes sharing one Redis channel). */
  open(count: number): Promise<Bus[]>;
}

const event = (seq: number): BusMessage => ({
  kind: 'event',
  event: {
    id: `evt_${seq}` as EventId,
    conversationId: 'cnv_bus' as ConversationId,
    seq,
    type: 'message.created',
    actorId: null,
    createdAt: seq,
    data: `{"n":${seq},"text":"ünïcödé \\"quoted\\""}`,
    messageId: null,
    visibleTo: null,
    authorId: null,
    historyAt: seq,
  } satisfies EventRecord,
});

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 5000) throw new Error('not delivered in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The contract every Bus passes. */
export function describeBus(impl: BusImpl): void {
  describe(`${impl.name}: bus contract`, () => {
    let open: Bus[] = [];
    afterEach(async () => {
      await Promise.all(open.map((b) => b.close()));
      open = [];
    });
    const buses = async (n: number) => (open = await impl.open(n));

    it('delivers every message to every subscriber of every bus, in publish order, intact', async () => {
      const [a, b] = await buses(2);
      const got: Record<string, BusMessage[]> = { a1: [], a2: [], b: [] };
      a!.subscribe((m) => got['a1']!.push(m));
      a!.subscribe((m) => got['a2']!.push(m));
      b!.subscribe((m) => got['b']!.push(m));
      const sent = Array.from({ length: 50 }, (_, i) => event(i + 1));
      sent.push({ kind: 'typing', conversationId: 'cnv_bus' as ConversationId, userId: 'usr_t' as UserId, displayName: 'T', at: 1 });
      sent.push({ kind: 'session', userId: 'usr_t' as UserId, reason: 'revoked' });
      for (const m of sent) a!.publish(m);
      await until(() => Object.values(got).every((list) => list.length === sent.length));
      for (const list of Object.values(got)) expect(list).toEqual(sent);
    });

    it('stops delivering to an unsubscribed handler, and a failing handler does not stop the others', async () => {
      const [a] = await buses(1);
      const kept: BusMessage[] = [];
      const dropped: BusMessage[] = [];
      a!.subscribe(() => {
        throw new Error('handler bug');
      });
      const off = a!.subscribe((m) => dropped.push(m));
      a!.subscribe((m) => kept.push(m));
      a!.publish(event(1));
      await until(() => kept.length === 1);
      off();
      a!.publish(event(2));
      await until(() => kept.length === 2);
      expect(dropped).toHaveLength(1);
    });
  });
}
