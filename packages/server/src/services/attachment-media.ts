import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import type { AttachmentCategory, Limits } from '@parley/protocol';
import { badRequest } from '../domain/index.js';

// What a file is, judged from its bytes; and what an image looks like. The client's Content-Type is
// never consulted: a spoofed type would otherwise pick a laxer limit or get rendered inline.

// Each image is decoded once: libvips' operation cache would only hold on to memory.
sharp.cache(false);

/** How many leading bytes type detection looks at (file-type's own default sample size). */
export const SAMPLE_BYTES = 4100;

export interface DetectedType {
  mimeType: string;
  /** Extension for a default file name, without the dot. */
  ext: string;
}

/** Text without control characters other than tab, line feed, form feed and carriage return. */
function isPlainText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || c === 0x7f) return false;
  }
  return true;
}

/**
 * The type of a file from its first bytes (`complete` when the sample is the whole file). Formats
 * without a signature that decode as UTF-8 text without control characters are `text/plain`; the rest
 * is `application/octet-stream`.
 */
export async function detectType(sample: Uint8Array, complete: boolean): Promise<DetectedType> {
  const found = await fileTypeFromBuffer(sample);
  if (found) return { mimeType: found.mime, ext: found.ext };
  try {
    // `stream` mode tolerates a character cut in two at the end of a partial sample.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: !complete });
    if (isPlainText(text)) return { mimeType: 'text/plain', ext: 'txt' };
  } catch {
    // not UTF-8: binary
  }
  return { mimeType: 'application/octet-stream', ext: 'bin' };
}

/** Containers browsers record voice notes in, which detection reports as video. */
const AUDIO_CONTAINERS: Readonly<Record<string, string>> = { 'video/webm': 'audio/webm', 'video/mp4': 'audio/mp4' };

/**
 * The category of a detected type, and the MIME type to record. A voice note must be audio (WebM and
 * MP4 containers count: browsers record voice in them).
 */
export function categorize(mimeType: string, voice: boolean): { category: AttachmentCategory; mimeType: string } {
  if (voice) {
    if (mimeType.startsWith('audio/')) return { category: 'voice', mimeType };
    const audio = AUDIO_CONTAINERS[mimeType];
    if (audio) return { category: 'voice', mimeType: audio };
    throw badRequest(`A voice note must be audio; these bytes are ${mimeType}`, 'voice');
  }
  if (mimeType.startsWith('image/')) return { category: 'image', mimeType };
  if (mimeType.startsWith('video/')) return { category: 'video', mimeType };
  if (mimeType.startsWith('audio/')) return { category: 'audio', mimeType };
  return { category: 'attachment', mimeType };
}

/** The size limit of a category. */
export function sizeLimit(limits: Limits, category: AttachmentCategory): number {
  switch (category) {
    case 'image':
      return limits.maxImageBytes;
    case 'video':
      return limits.maxVideoBytes;
    case 'audio':
      return limits.maxAudioBytes;
    case 'voice':
      return limits.maxVoiceBytes;
    default:
      return limits.maxAttachmentBytes;
  }
}

/** The largest upload any category admits: what a body may be before its type is known. */
export function largestSizeLimit(limits: Limits): number {
  return Math.max(limits.maxAttachmentBytes, limits.maxImageBytes, limits.maxVideoBytes, limits.maxAudioBytes, limits.maxVoiceBytes);
}

/**
 * Types a browser may render in place: passive media. Everything else (HTML, SVG, XML, scripts, PDFs,
 * archives, and text, which may be HTML a browser would sniff) is served as a download, so uploaded
 * content never runs in our origin.
 */
const INLINE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
]);

export function isInlineSafe(mimeType: string): boolean {
  return INLINE_TYPES.has(mimeType) || mimeType.startsWith('audio/');
}

/** Images the thumbnailer decodes (SVG is deliberately absent: it is a document, not pixels). */
const THUMBNAILABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/tiff', 'image/heic', 'image/heif']);

export const THUMBNAIL_MAX_EDGE = 320;
export const THUMBNAIL_MIME = 'image/webp';

export interface ImageInfo {
  width: number | null;
  height: number | null;
  thumbnail: { data: Buffer; width: number; height: number } | null;
}

/**
 * Dimensions (as displayed, EXIF orientation applied) and a thumbnail of an image. Images over
 * `maxPixels` keep the dimensions from their header but are never decoded (a decompression bomb);
 * undecodable images get neither.
 */
export async function probeImage(bytes: Buffer, mimeType: string, maxPixels: number): Promise<ImageInfo> {
  const none: ImageInfo = { width: null, height: null, thumbnail: null };
  if (!THUMBNAILABLE.has(mimeType)) return none;
  // The header only: nothing is decoded until the pixel count is known to be within bounds.
  const meta = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .catch(() => undefined);
  if (!meta?.width || !meta.height) return none;
  const rotated = (meta.orientation ?? 1) >= 5;
  const width = rotated ? meta.height : meta.width;
  const height = rotated ? meta.width : meta.height;
  if (meta.width * meta.height > maxPixels) return { width, height, thumbnail: null };
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels })
      .rotate()
      .resize(THUMBNAIL_MAX_EDGE, THUMBNAIL_MAX_EDGE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer({ resolveWithObject: true });
    return { width, height, thumbnail: { data, width: info.width, height: info.height } };
  } catch {
    return { width, height, thumbnail: null };
  }
}
