/** Where to start and how big to make pages, for {@link PagedAsyncIterable.byPage}. */
export interface PageSettings {
  /** Resume after the page that returned this token (opaque: pass it back as it is). */
  continuationToken?: string | undefined;
  /** The largest page to ask the server for (it may cap it at its own maximum). */
  maxPageSize?: number | undefined;
}

/** One page of a list and the token for the next one (undefined on the last page). */
export interface ContinuablePage<T> {
  /** The page's items. */
  items: T[];
  /** Pass to `byPage({ continuationToken })` to get the next page; undefined when there is none. */
  continuationToken: string | undefined;
}

/**
 * What every `list*` method returns: iterate it for items (`for await (const m of conv.listMessages())`),
 * or call {@link PagedAsyncIterable.byPage} to walk pages and stop and resume later with a
 * continuation token.
 *
 * @example
 * ```ts
 * const pages = conv.listMessages({ order: 'asc' }).byPage({ maxPageSize: 50 });
 * const first = (await pages.next()).value; // { items, continuationToken }
 * // … later, even in another process:
 * for await (const page of conv.listMessages({ order: 'asc' }).byPage({ continuationToken: first.continuationToken })) { … }
 * ```
 */
export interface PagedAsyncIterable<T> extends AsyncIterable<T> {
  /** Iterates pages instead of items. */
  byPage(settings?: PageSettings): AsyncIterableIterator<ContinuablePage<T>>;
}

/** What {@link pagedIterable} needs: how to get one page. */
export type GetPage<T> = (settings: { continuationToken: string | undefined; maxPageSize: number | undefined }) => Promise<ContinuablePage<T>>;

/** Options every list method accepts besides its filters. */
export interface PagingOptions {
  /** Stop after this many items in all, over every page (Symphony's `max_number`). */
  maxItems?: number | undefined;
  /** Page size for item iteration (Symphony's `chunk_size`); `byPage({ maxPageSize })` overrides it. */
  maxPageSize?: number | undefined;
}

/**
 * The one paging loop of the SDK: turns a page getter into a {@link PagedAsyncIterable}. Asks for no
 * more items than `maxItems` still allows, and truncates the last page to it.
 */
export function pagedIterable<T>(getPage: GetPage<T>, options: PagingOptions = {}): PagedAsyncIterable<T> {
  const { maxItems } = options;
  if (maxItems !== undefined && (!Number.isInteger(maxItems) || maxItems < 0)) throw new RangeError('maxItems must be an integer >= 0');
  async function* pages(settings: PageSettings = {}): AsyncIterableIterator<ContinuablePage<T>> {
    const size = settings.maxPageSize ?? options.maxPageSize;
    if (size !== undefined && (!Number.isInteger(size) || size < 1)) throw new RangeError('maxPageSize must be an integer >= 1');
    let token = settings.continuationToken;
    let remaining = maxItems ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const page = await getPage({ continuationToken: token, maxPageSize: pageSizeFor(size, remaining) });
      const truncated = page.items.length > remaining;
      const items = truncated ? page.items.slice(0, remaining) : page.items;
      remaining -= items.length;
      // A token would resume after the whole page, skipping what was cut off: a cut page is the last one.
      token = truncated ? undefined : page.continuationToken;
      yield { items, continuationToken: token };
      if (token === undefined) return;
    }
  }
  return {
    byPage: pages,
    async *[Symbol.asyncIterator]() {
      for await (const page of pages()) yield* page.items;
    },
  };
}

// Every server allows pages this large (its default page size); larger ones may exceed its maximum.
const SAFE_PAGE_SIZE = 50;

/** Asks for no more than `maxItems` still allows, without exceeding what the caller or the server allow. */
function pageSizeFor(size: number | undefined, remaining: number): number | undefined {
  if (size !== undefined) return Math.min(size, remaining);
  return remaining <= SAFE_PAGE_SIZE ? remaining : undefined;
}
