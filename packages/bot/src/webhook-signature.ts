import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a webhook request was refused. */
export type WebhookRejection = 'missing_signature' | 'malformed_signature' | 'stale_timestamp' | 'bad_signature';

/** The default replay window: requests signed more than this far from now are refused. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Checks a `Parley-Signature` header (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`) against
 * the raw body. Returns null when it is valid, or why not. The comparison takes constant time.
 */
export function checkWebhookSignature(
  request: { header: string | undefined; rawBody: string | Uint8Array },
  secret: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): WebhookRejection | null {
  const { header, rawBody } = request;
  if (header === undefined || header === '') return 'missing_signature';
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return 'malformed_signature';
  const now = options.now ?? Date.now() / 1000;
  if (Math.abs(now - Number(m[1])) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return 'stale_timestamp';
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const expected = createHmac('sha256', secret).update(`${m[1]}.`).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex')) ? null : 'bad_signature';
}
