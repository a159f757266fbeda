import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '@parley/server';
import { storeImpls } from './helpers/test-stores.js';

// Transactions started together (in one event-loop turn) must each behave as a transaction of their
// own, whether the store runs them separately (PostgreSQL) or shares one commit among them (SQLite's
// group commit): all or nothing per caller, later ones seeing earlier ones' writes, failures isolated.

type UserId = Parameters<Store['idempotency']['get']>[0];
const user = 'usr_tx' as UserId;
const record = (key: string, resultId = 'r') => ({ userId: user, scope: 's', key, requestHash: 'h', resultId, createdAt: 1 });

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
      await expect(third).resolves.toBe('first');
      expect(await has('k2')).toBe(false);
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
  });
}
