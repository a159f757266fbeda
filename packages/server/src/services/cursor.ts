import { badRequest } from '../domain/index.js';

/** Cursors are opaque to clients: base64url JSON that the server alone reads. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a cursor and checks its shape; anything else is a client error, never a 5xx. */
export function decodeCursor<T>(cursor: string, isValid: (v: unknown) => v is T, target = 'cursor'): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('The cursor is not valid', target);
  }
  if (!isValid(value)) throw badRequest('The cursor is not valid', target);
  return value;
}
