import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** An opaque resource id. Clients never parse ids; the server makes them URL-safe and time-sortable. */
export const IdSchema = Type.String({ minLength: 1, maxLength: 100, description: 'Opaque id' });

/** Groups whose current members a create or add request also adds (see groups.ts). */
export const GroupRefsSchema = Type.Array(IdSchema, {
  minItems: 1,
  maxItems: 20,
  description: 'Groups whose current members are added too (bots: public groups only)',
});

/** Wire time: ISO-8601 in UTC, e.g. `2026-01-02T03:04:05.678Z`. */
export const TimestampSchema = Type.String({ format: 'date-time', description: 'ISO-8601 UTC time' });

/** A string map attached to a message or conversation, bounded by the server's limits. */
export const MetadataSchema = Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.String(), {
  description: 'String map; total size bounded by `GET /v1/limits`',
  // A Record's key schema becomes a pattern that drops minLength/maxLength; propertyNames enforces them.
  propertyNames: { minLength: 1, maxLength: 256 },
});
export type Metadata = Static<typeof MetadataSchema>;

/** An idempotency key: the same key from the same caller returns the first result. */
export const IdempotencyKeySchema = Type.String({ minLength: 1, maxLength: 200 });

/** Skip/limit and cursor paging parameters, shared by every list. */
export const PageQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Page size; the maximum depends on the list' })),
  skip: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Items to skip (offset paging)' })),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 500, description: 'Opaque continuation token from a previous page' }),
  ),
});
export type PageQuery = Static<typeof PageQuerySchema>;

/** A page of a list: its items and, when more remain, the opaque token for the next page. */
export function PageSchema<T extends TSchema>(item: T, id: string) {
  return Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], {
        description: 'Pass as `cursor` to get the next page; null on the last page',
      }),
    },
    { title: id },
  );
}

/** What a page of items looks like on the wire. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Path parameters naming a conversation. */
export const ConversationParamsSchema = Type.Object({ conversationId: IdSchema });
export type ConversationParams = Static<typeof ConversationParamsSchema>;

/** A closed set of strings as a JSON Schema `enum` (clearer errors and OpenAPI than a union of literals). */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
