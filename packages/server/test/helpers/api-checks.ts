import { expect } from 'vitest';
import type { Api, ApiResponse } from './test-server.js';

/** Asserts the standard error body: status, code and (when given) target. */
export function expectError(res: ApiResponse<any>, status: number, code: string, target?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  if (target !== undefined) expect(res.body.error.target).toBe(target);
}

/** Walks every page of a list with cursors, checking each page's size; returns all the items. */
export async function walkPages(api: Api, path: string, limit: number): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: ApiResponse<any> = await api.get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    expect(page.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return items;
}
