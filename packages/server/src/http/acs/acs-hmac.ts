import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { unauthorized } from './acs-errors.js';

/** How far `x-ms-date` may be from the server's clock, as ACS allows. */
const MAX_SKEW_MS = 15 * 60_000;
const AUTHORIZATION = /^HMAC-SHA256 SignedHeaders=([^&]+)&Signature=(.+)$/;
const SIGNED_HEADERS = 'x-ms-date;host;x-ms-content-sha256';

export interface SignedRequest {
  method: string;
  /** The raw request target as received (`req.url`): path and query, percent-encoding untouched. */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body exactly as received ('' for none): re-serialised JSON would not hash the same. */
  rawBody: string;
}

const header = (headers: SignedRequest['headers'], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64');

/**
 * Verifies the ACS access-key signature (HMAC-SHA256 over verb, path-and-query, date, host and body
 * hash, keyed by the base64-decoded access key), or throws `unauthenticated`.
 */
export function verifyAcsSignature(req: SignedRequest, accessKey: string, now: number): void {
  const match = AUTHORIZATION.exec(header(req.headers, 'authorization') ?? '');
  if (!match) throw unauthorized('Send Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…');
  if (match[1]!.toLowerCase() !== SIGNED_HEADERS) throw unauthorized(`SignedHeaders must be ${SIGNED_HEADERS}`);
  const date = header(req.headers, 'x-ms-date');
  const host = header(req.headers, 'host');
  const contentHash = header(req.headers, 'x-ms-content-sha256');
  if (date === undefined || host === undefined || contentHash === undefined) {
    throw unauthorized('The x-ms-date, host and x-ms-content-sha256 headers are required');
  }
  const at = Date.parse(date);
  if (Number.isNaN(at) || Math.abs(now - at) > MAX_SKEW_MS) throw unauthorized('x-ms-date is missing or too far from the server time');
  if (contentHash !== sha256(req.rawBody)) throw unauthorized('x-ms-content-sha256 does not match the body');
  const stringToSign = `${req.method.toUpperCase()}\n${req.url}\n${date};${host};${contentHash}`;
  const expected = createHmac('sha256', Buffer.from(accessKey, 'base64')).update(stringToSign, 'utf8').digest();
  const given = Buffer.from(match[2]!, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw unauthorized('The access key signature is invalid');
}
