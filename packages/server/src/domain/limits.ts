import type { Limits } from '@parley/protocol';
import { badRequest, limitExceeded } from './errors.js';

// Limit checks for what the static schemas cannot know: the configured numbers.

export function checkMetadata(limits: Limits, metadata: Record<string, string> | undefined, target = 'metadata'): void {
  if (!metadata) return;
  const entries = Object.entries(metadata);
  if (entries.length > limits.maxMetadataEntries) {
    throw limitExceeded(`Metadata may have at most ${limits.maxMetadataEntries} entries`, target);
  }
  let bytes = 0;
  for (const [k, v] of entries) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (bytes > limits.maxMetadataBytes) {
    throw limitExceeded(`Metadata may total at most ${limits.maxMetadataBytes} bytes`, target);
  }
}

export function checkLength(max: number, value: string | null | undefined, target: string): void {
  if (value !== null && value !== undefined && value.length > max) {
    throw limitExceeded(`${target} may be at most ${max} characters`, target);
  }
}

export function checkMessageContent(limits: Limits, content: string, target = 'content'): void {
  if (content.trim().length === 0) throw badRequest('Message content must not be blank', target);
  checkLength(limits.maxMessageLength, content, target);
}

/** The page size to use: the requested one, or the default, bounded by `max`. */
export function pageSize(requested: number | undefined, fallback: number, max: number, target = 'limit'): number {
  if (requested === undefined) return Math.min(fallback, max);
  if (requested > max) throw limitExceeded(`Page size may be at most ${max}`, target);
  return requested;
}
