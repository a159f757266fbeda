import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '@parley/server';
import { newId } from '../src/domain/index.js';
import { laneOf } from '../src/store/kysely/kysely-store.js';
import pg from 'pg';
import { aConversation, aMessage, aUser } from './contracts/fixtures.js';
import { PG_URL, storeImpls } from './helpers/test-stores.js';

// Transactions started together (in one event-loop turn) must each behave as a transaction of their
// own, whether the store runs them separately or shares one commit among them (group commit: SQLite's
// for every transaction, PostgreSQL's for those given a key): all or nothing per caller, later ones
// seeing earlier ones' writes, failures isolated.

type UserId = Parameters<Store['idempotency']['get']>[0];
const user = 'usr_tx' as UserId;
const record = (key: string, resultId = 'r') => ({ userId: user, scope: 's', key, requestHash: 'h', resultId, createdAt: 1 });

type Conversation = ReturnType<typeof aConversation>;

/** A message send's append (see MessageStore.appendWithEvent): `content` at `at`, its event carrying it. */
function appendTo(c: Conversation, senderId: UserId, content: string, at: number) {
  const { seq: _seq, ...message } = aMessage(c, 0, senderId, { content, createdAt: at });
  const event = {
    id: newId('event'), conversationId: c.id, type: 'message.created' as const, actorId: senderId, createdAt: at,
    messageId: message.id, visibleTo: null, authorId: senderId, historyAt: at,
  };
  return { message, event, data: ['{"message":{"seq":', `,"content":${JSON.stringify(content)}}}`] as const };
}

/** What a conversation holds, in seq order: its events' data and its messages' contents. */
async function contentsOf(store: Store, c: Conversation) {
  const events = await store.events.listAfter(c.id, { afterSeq: 0, limit: 1000, viewer: null });
  const messages = await store.messages.listPage(c.id, { order: 'asc', limit: 1000, viewer: { userId: user, historyFrom: null } });
  return { events: events.map((e) => [e.seq, e.data]), messages: messages.map((m) => [m.seq, m.content]) };
}

for (const impl of await storeImpls()) {
  describe(`transactions started together (${impl.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await impl.open();
    });
    afterEach(async () => {
      await store.close();
    });

    const has = async (key: string) => (await store.idempotency.get(user, 's', key)) !== undefined;

    it('keeps every caller apart: a failure rolls back only its own writes', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          store.transaction(async (tx) => {
            await tx.idempotency.insert(record(`a${i}`));
            await tx.idempotency.insert(record(`b${i}`));
            if (i % 3 === 1) throw new Error(`caller ${i} fails after writing`);
            return i;
          }),
        ),
      );
      for (const [i, r] of results.entries()) {
        if (i % 3 === 1) {
          expect(r.status).toBe('rejected');
          expect((r as PromiseRejectedResult).reason).toMatchObject({ message: `caller ${i} fails after writing` });
          expect(await has(`a${i}`)).toBe(false);
          expect(await has(`b${i}`)).toBe(false);
        } else {
          expect(r).toEqual({ status: 'fulfilled', value: i });
          expect(await has(`a${i}`)).toBe(true);
          expect(await has(`b${i}`)).toBe(true);
        }
      }
    });

    it('lets a later caller see what an earlier one wrote, and conflict with it', async () => {
      const first = store.transaction((tx) => tx.idempotency.insert(record('k', 'first')));
      const second = store.transaction(async (tx) => {
        await tx.idempotency.insert(record('k2', 'second'));
        await tx.idempotency.insert(record('k', 'second'));
      });
      const third = store.transaction(async (tx) => (await tx.idempotency.get(user, 's', 'k'))?.resultId);
      await expect(first).resolves.toBeUndefined();
      await expect(second).rejects.toMatchObject({ name: 'StoreConflict' });
      // SQLite groups every transaction; PostgreSQL only keyed ones (the keyed test below holds it to this).
      // Its unkeyed transactions run at once on connections of their own, where a read does not wait for
      // another transaction's commit (a write does: the conflict above): whether the read comes after the
      // commit is a race on PostgreSQL.
      if (impl.name === 'sqlite') await expect(third).resolves.toBe('first');
      else await expect(third).resolves.toSatisfy((seen) => seen === undefined || seen === 'first');
      expect(await has('k2')).toBe(false);
    });

    it('runs keyed transactions of one key in the order asked, each all or nothing', async () => {
      const convs = [aConversation(newId('user')), aConversation(newId('user')), aConversation(newId('user'))];
      for (const c of convs) await store.conversations.insert(c);
      const results = await Promise.allSettled(
        Array.from({ length: 36 }, (_, i) => {
          const c = convs[i % 3]!;
          return store.transaction(
            async (tx) => {
              const { seq } = await tx.conversations.nextSeq(c.id, false, 1);
              await tx.idempotency.insert(record(`e${i}`));
              if (i % 4 === 1) throw new Error(`caller ${i} fails after writing`);
              return seq;
            },
            { key: c.id },
          );
        }),
      );
      for (const [n, c] of convs.entries()) {
        const mine = results.filter((_, i) => i % 3 === n);
        const seqs = mine.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        // Dense and in the order asked: the failed ones took nothing.
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        expect((await store.conversations.get(c.id))?.lastSeq).toBe(seqs.length);
      }
      for (const [i, r] of results.entries()) {
        expect(r.status).toBe(i % 4 === 1 ? 'rejected' : 'fulfilled');
        expect(await has(`e${i}`)).toBe(i % 4 !== 1);
      }
    });

    it('lets a later keyed caller see what an earlier one wrote, and conflict with it', async () => {
      const key = { key: 'one-conversation' };
      const first = store.transaction((tx) => tx.idempotency.insert(record('q', 'first')), key);
      const second = store.transaction(async (tx) => {
        await tx.idempotency.insert(record('q2', 'second'));
        await tx.idempotency.insert(record('q', 'second'));
      }, key);
      const third = store.transaction(async (tx) => (await tx.idempotency.get(user, 's', 'q'))?.resultId, key);
      await expect(first).resolves.toBeUndefined();
      await expect(second).rejects.toMatchObject({ name: 'StoreConflict' });
      await expect(third).resolves.toBe('first');
      expect(await has('q2')).toBe(false);
    });

    it('answers a caller only once its writes are committed', async () => {
      const seen: boolean[] = [];
      // Read outside any transaction: what a caller was told is done must be there for everyone.
      const writes = Array.from({ length: 10 }, (_, i) =>
        store.transaction((tx) => tx.idempotency.insert(record(`c${i}`))).then(async () => void (seen[i] = await has(`c${i}`))),
      );
      await Promise.all(writes);
      expect(seen).toEqual(Array.from({ length: 10 }, () => true));
    });

    it('runs a transaction that follows a busy batch, and nested transactions as part of their caller', async () => {
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.transaction((tx) => tx.idempotency.insert(record(`d${i}`)))));
      const nested = await store.transaction((tx) =>
        tx.transaction(async (inner) => {
          await inner.idempotency.insert(record('nested'));
          return 'done';
        }),
      );
      expect(nested).toBe('done');
      expect(await has('d299')).toBe(true);
      expect(await has('nested')).toBe(true);
      await expect(
        store.transaction(async (tx) => {
          await tx.transaction((inner) => inner.idempotency.insert(record('nested-undone')));
          throw new Error('outer fails');
        }),
      ).rejects.toThrow('outer fails');
      expect(await has('nested-undone')).toBe(false);
    });

    it('keeps the order asked within a key when independent transactions run side by side, whatever each does first', async () => {
      const alice = aUser();
      await store.users.insert(alice);
      const convs = [aConversation(alice.id), aConversation(alice.id), aConversation(alice.id)];
      for (const c of convs) await store.conversations.insert(c);
      await store.members.insert({ conversationId: convs[0]!.id, userId: alice.id, role: 'owner', historyFrom: null, joinedAt: 1 });
      const results = await Promise.all(
        Array.from({ length: 45 }, (_, i) => {
          const c = convs[i % 3]!;
          return store.transaction(
            async (tx) => {
              const access = await tx.conversations.getWithMember(c.id, alice.id);
              // Some reach their append later than those after them (a send with mentions reads users first).
              for (let k = 0; k < (i * 7) % 4; k++) await tx.users.get(alice.id);
              const seqs = await tx.messages.appendWithEvent(appendTo(c, alice.id as UserId, `m${i}`, 1000 + i));
              return { role: access?.member?.role ?? null, found: access !== undefined, ...seqs };
            },
            { key: c.id, independent: true },
          );
        }),
      );
      for (const [n, c] of convs.entries()) {
        const mine = results.filter((_, i) => i % 3 === n);
        expect(mine.map((r) => [r.seq, r.messageSeq])).toEqual(Array.from({ length: 15 }, (_, k) => [k + 1, k + 1]));
        expect(mine.every((r) => r.found && r.role === (n === 0 ? 'owner' : null))).toBe(true);
        const contents = Array.from({ length: 15 }, (_, k) => `m${3 * k + n}`);
        expect(await contentsOf(store, c)).toEqual({
          events: contents.map((content, k) => [k + 1, `{"message":{"seq":${k + 1},"content":"${content}"}}`]),
          messages: contents.map((content, k) => [k + 1, content]),
        });
        expect(await store.conversations.get(c.id)).toMatchObject({ lastSeq: 15, lastMessageSeq: 15, lastActivityAt: 1000 + 42 + n });
      }
    });

    it('runs a batch of independent transactions again one by one when one fails: it takes nothing, the rest stay dense', async () => {
      const alice = aUser();
      await store.users.insert(alice);
      const convs = [aConversation(alice.id), aConversation(alice.id)];
      for (const c of convs) await store.conversations.insert(c);
      const fails = (i: number) => i % 7 === 3 || i === 12;
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) => {
          const c = convs[i % 2]!;
          return store.transaction(
            async (tx) => {
              await tx.conversations.getWithMember(c.id, alice.id);
              const { messageSeq } = await tx.messages.appendWithEvent(appendTo(c, alice.id as UserId, `f${i}`, 2000 + i));
              if (i % 7 === 3) throw new Error(`send ${i} refused after its append`);
              // 12 conflicts with 8 (same key, so 8 is asked for first): a failed statement, not a thrown error.
              if (i === 8 || i === 12) await tx.idempotency.insert(record('same-key'));
              return messageSeq;
            },
            { key: c.id, independent: true },
          );
        }),
      );
      for (const [i, r] of results.entries()) {
        if (i === 12) expect(r).toMatchObject({ status: 'rejected', reason: { name: 'StoreConflict' } });
        else if (fails(i)) expect(r).toMatchObject({ status: 'rejected', reason: { message: `send ${i} refused after its append` } });
        else expect(r.status).toBe('fulfilled');
      }
      for (const [n, c] of convs.entries()) {
        const kept = results.flatMap((r, i) => (i % 2 === n && !fails(i) ? [[(r as PromiseFulfilledResult<number>).value, `f${i}`]] : []));
        expect(kept.map(([seq]) => seq)).toEqual(Array.from({ length: kept.length }, (_, k) => k + 1));
        expect((await contentsOf(store, c)).messages).toEqual(kept);
      }
    });

    it('refuses the store of a transaction used after the transaction ended, and writes nothing through it', async () => {
      const room = aConversation('usr_tx' as never);
      await store.conversations.insert(room);
      let leaked: Store | undefined;
      await store.transaction(async (tx) => {
        leaked = tx;
        await tx.conversations.nextSeq(room.id, false, Date.now());
      });
      // A later transaction in flight must not take in the leaked store's write (SQLite runs a
      // transaction's statements straight on its one connection while the transaction runs, and only then).
      const later = store.transaction(async (tx) => {
        await tx.idempotency.insert(record('later'));
        await new Promise((r) => setTimeout(r, 20));
      });
      await expect(leaked!.conversations.nextSeq(room.id, false, Date.now())).rejects.toThrow();
      await later;
      expect((await store.conversations.get(room.id))?.lastSeq).toBe(room.lastSeq + 1);
    });
  });
}

const postgres = (await storeImpls()).some((impl) => impl.name === 'postgres');

describe.runIf(postgres)('independent transactions side by side (postgres)', () => {
  it('sends a batch of message appends as four statements, whatever its size', async () => {
    // Counted at the driver: every statement the store sends is one call of a connection's query.
    const query = pg.Client.prototype.query;
    let statements = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      statements += 1;
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    const store = await openStore({ url: PG_URL, schema: `parley_test_${randomBytes(6).toString('hex')}`, dropSchemaOnClose: true });
    try {
      const alice = aUser();
      await store.users.insert(alice);
      // Two conversations in one lane: one batch.
      const convs: Conversation[] = [];
      while (convs.length < 2) {
        const c = aConversation(alice.id);
        if (convs.length === 0 || laneOf(c.id) === laneOf(convs[0]!.id)) convs.push(c);
      }
      for (const c of convs) await store.conversations.insert(c);
      const send = (i: number) => {
        const c = convs[i % 2]!;
        return store.transaction(
          async (tx) => {
            await tx.conversations.getWithMember(c.id, alice.id);
            return (await tx.messages.appendWithEvent(appendTo(c, alice.id as UserId, `s${i}`, 3000 + i))).messageSeq;
          },
          { key: c.id, independent: true },
        );
      };
      for (const size of [2, 40]) {
        statements = 0;
        const seqs = await Promise.all(Array.from({ length: size }, (_, i) => send(i)));
        // begin, the reads, the appends, commit; one by one it was 2 × size + 2.
        expect(statements).toBe(4);
        expect(seqs.filter((_, i) => i % 2 === 0)).toEqual(seqs.filter((_, i) => i % 2 === 1));
      }
      expect(await store.conversations.get(convs[0]!.id)).toMatchObject({ lastSeq: 21, lastMessageSeq: 21 });
    } finally {
      pg.Client.prototype.query = query;
      await store.close();
    }
  });
});

describe.runIf(postgres)('keyed transactions of two processes (postgres)', () => {
  it('runs batches again one by one when they deadlock each other', async () => {
    const schema = `parley_test_${randomBytes(6).toString('hex')}`;
    const one = await openStore({ url: PG_URL, schema, dropSchemaOnClose: true });
    const two = await openStore({ url: PG_URL, schema, migrate: false });
    try {
      const c1 = aConversation(newId('user'));
      const c2 = aConversation(newId('user'));
      await one.conversations.insert(c1);
      await one.conversations.insert(c2);
      // Two keys in one lane, so that each process runs them in one batch, in key order.
      const keys = Array.from({ length: 64 }, (_, i) => `key-${i}`);
      const lane = laneOf(keys[0]!);
      const [k1, k2] = keys.filter((k) => laneOf(k) === lane).sort() as [string, string];
      // Each batch locks one conversation first, then, once both have, the other one: a deadlock, which
      // PostgreSQL breaks by failing one batch; its transactions then run again alone.
      let locked = 0;
      let bothLocked!: () => void;
      const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
      const lockFirst = (tx: Store, id: typeof c1.id) =>
        tx.conversations.nextSeq(id, false, 1).then(async (r) => {
          if (++locked === 2) bothLocked();
          await barrier;
          return r.seq;
        });
      const lockThen = (tx: Store, id: typeof c1.id) => tx.conversations.nextSeq(id, false, 1).then((r) => r.seq);
      const results = await Promise.all([
        one.transaction((tx) => lockFirst(tx, c1.id), { key: k1 }),
        one.transaction((tx) => lockThen(tx, c2.id), { key: k2 }),
        two.transaction((tx) => lockFirst(tx, c2.id), { key: k1 }),
        two.transaction((tx) => lockThen(tx, c1.id), { key: k2 }),
      ]);
      expect(results.every((seq) => seq === 1 || seq === 2)).toBe(true);
      expect((await one.conversations.get(c1.id))?.lastSeq).toBe(2);
      expect((await one.conversations.get(c2.id))?.lastSeq).toBe(2);
    } finally {
      await two.close();
      await one.close();
    }
  });
});
