import { decodeCursor } from './cursor.js';

// Cursors carry the query they continue, so the next page is of the same search. A cursor is the
// client's to hold and could be tampered with: what comes back is checked against the shape of the
// query's parameters before use, so a forged cursor is a 400, never a database error.

export type FieldKind = 'string' | 'boolean' | 'integer' | 'strings';
export type QueryShape = Readonly<Record<string, FieldKind>>;

function fits(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string' && value.length <= 1024;
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'strings':
      return Array.isArray(value) && value.length <= 16 && value.every((v) => typeof v === 'string' && v.length <= 1024);
  }
}

/** True when `value` is an object whose every key is in `shape` with a value of that kind. */
export function hasShape<T>(value: unknown, shape: QueryShape): value is T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(([k, v]) => Object.hasOwn(shape, k) && fits(v, shape[k]!));
}

/** The parameters of `query` that `shape` names (paging parameters left out), without undefined ones. */
export function pickShape<T extends object>(query: T, shape: QueryShape): Partial<T> {
  return Object.fromEntries(Object.entries(query).filter(([k, v]) => Object.hasOwn(shape, k) && v !== undefined)) as Partial<T>;
}

/** Is `v` a keyset of numbers and a trailing id, `length` long? */
export function isKeyset(v: unknown, length: number): v is (number | string)[] {
  return (
    Array.isArray(v) &&
    v.length === length &&
    v.slice(0, -1).every((x) => Number.isSafeInteger(x)) &&
    typeof v[length - 1] === 'string' &&
    (v[length - 1] as string).length <= 200
  );
}

/** A listing's cursor: the keyset after the last item (`k`) and the parameters of the listing (`p`). */
export interface QueryCursor<T> {
  k: (number | string)[];
  p: T;
}

/** Decodes a cursor made of a keyset of `keyLength` and parameters of `shape`; anything else is a 400. */
export function decodeQueryCursor<T>(cursor: string, shape: QueryShape, keyLength: number): QueryCursor<T> {
  return decodeCursor(cursor, (v): v is QueryCursor<T> => {
    if (typeof v !== 'object' || v === null) return false;
    const { k, p } = v as Record<string, unknown>;
    return isKeyset(k, keyLength) && hasShape<T>(p, shape);
  });
}
