import type { Page } from '@parley/protocol';
import type { HttpPipeline, OperationOptions, QueryValue } from './http-pipeline.js';
import { pagedIterable, type PagedAsyncIterable, type PagingOptions } from './paging.js';

/** A list endpoint paged by the server's opaque cursor. */
export interface CursorListRequest {
  path: string;
  /** The first page's query (filters, skip); the cursor carries them on from there. */
  filters: Record<string, QueryValue>;
  /** Parameters the server requires on every page, even with a cursor (which wins over them). */
  required?: Record<string, QueryValue>;
}

/** A server list (`{ items, nextCursor }`, `?cursor=&limit=`) as a {@link PagedAsyncIterable}. */
export function cursorList<T>(pipeline: HttpPipeline, request: CursorListRequest, options: OperationOptions & PagingOptions): PagedAsyncIterable<T> {
  return pagedIterable(async ({ continuationToken, maxPageSize }) => {
    const page = await pipeline.send<Page<T>>({
      method: 'GET',
      path: request.path,
      query: { ...request.required, ...(continuationToken === undefined ? request.filters : { cursor: continuationToken }), limit: maxPageSize },
      repeatable: true,
      signal: options.signal,
    });
    return { items: page.items, continuationToken: page.nextCursor ?? undefined };
  }, options);
}
