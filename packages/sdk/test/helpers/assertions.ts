import { expect } from 'vitest';
import { isParleyApiError, type ContinuablePage, type PagedAsyncIterable, type ParleyApiError } from '@parley/sdk';
import { collect } from './test-server.js';

/** The ParleyApiError a call rejects with (fails when it resolves or throws something else). */
export async function rejection(promise: Promise<unknown>): Promise<ParleyApiError> {
  try {
    await promise;
  } catch (err) {
    if (isParleyApiError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

async function pagesOf<T>(list: PagedAsyncIterable<T>, maxPageSize: number, continuationToken?: string): Promise<ContinuablePage<T>[]> {
  return collect(list.byPage({ maxPageSize, ...(continuationToken !== undefined ? { continuationToken } : {}) }));
}

/** The paging contract, for any list: items == flatten(pages), pages within size, resumable from any token. */
export async function checkPaging<T>(make: () => PagedAsyncIterable<T>, key: (item: T) => string, expected: string[]): Promise<void> {
  const items = (await collect(make())).map(key);
  expect(items).toEqual(expected);
  for (const size of [1, 2, 3, expected.length + 1]) {
    const pages = await pagesOf(make(), size);
    expect(pages.flatMap((p) => p.items).map(key)).toEqual(items);
    for (const page of pages) expect(page.items.length).toBeLessThanOrEqual(size);
    expect(pages.at(-1)!.continuationToken).toBeUndefined();
    for (const page of pages.slice(0, -1)) expect(typeof page.continuationToken).toBe('string');
    // Resume from each token: the rest is exactly what followed.
    let seen = 0;
    for (const page of pages.slice(0, -1)) {
      seen += page.items.length;
      const rest = await pagesOf(make(), size, page.continuationToken);
      expect(rest.flatMap((p) => p.items).map(key)).toEqual(items.slice(seen));
    }
  }
}
