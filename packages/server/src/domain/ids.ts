import { randomBytes, randomFillSync } from 'node:crypto';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type UserId = Brand<string, 'UserId'>;
export type ConversationId = Brand<string, 'ConversationId'>;
export type MessageId = Brand<string, 'MessageId'>;
export type EventId = Brand<string, 'EventId'>;
export type ApiKeyId = Brand<string, 'ApiKeyId'>;
export type AttachmentId = Brand<string, 'AttachmentId'>;
export type GroupId = Brand<string, 'GroupId'>;
export type DeliveryId = Brand<string, 'DeliveryId'>;
export type AuditId = Brand<string, 'AuditId'>;

export const ID_PREFIXES = { user: 'usr', conversation: 'cnv', message: 'msg', event: 'evt', apiKey: 'key', attachment: 'att', group: 'grp', audit: 'aud', delivery: 'dlv' } as const;
type IdKind = keyof typeof ID_PREFIXES;
interface IdTypes {
  user: UserId;
  conversation: ConversationId;
  message: MessageId;
  event: EventId;
  apiKey: ApiKeyId;
  attachment: AttachmentId;
  group: GroupId;
  audit: AuditId;
  delivery: DeliveryId;
}

// Crockford base32, lower case: URL-safe and sorts the same as the numbers it encodes.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeTime(ms: number): string {
  let out = '';
  // Clocks may be fractional (performance.now) or, when broken, negative: ids must stay well-formed.
  let n = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[n % 32]! + out;
    n = Math.floor(n / 32);
  }
  return out;
}

// Random bytes are drawn a pool at a time: each call into the CSPRNG has a fixed cost far above that of
// 16 bytes, and a message send makes two ids (it was 7% of the send path).
const POOL_BYTES = 4096;
const RANDOM_CHARS = 16;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

function randomChars(): string {
  if (poolOffset + RANDOM_CHARS > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let out = '';
  for (let i = poolOffset; i < poolOffset + RANDOM_CHARS; i++) out += ALPHABET[pool[i]! % 32]!;
  poolOffset += RANDOM_CHARS;
  return out;
}

/**
 * A new opaque id: type prefix, 10 chars of millisecond time, 16 random chars (80 bits).
 * Time-sortable so that creation order and id order agree; clients never parse it.
 */
export function newId<K extends IdKind>(kind: K, now: number = Date.now()): IdTypes[K] {
  return `${ID_PREFIXES[kind]}_${encodeTime(now)}${randomChars()}` as IdTypes[K];
}

/** A secret of `bytes` random bytes, base64url, with a readable prefix (`pk_…` for API keys). */
export function newSecret(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}
