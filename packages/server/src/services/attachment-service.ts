import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Attachment, AttachmentCategory } from '@parley/protocol';
import { isBlobNotFound, type BlobStore, type BlobWriter, type ByteRange } from '../blobs/index.js';
import {
  badRequest,
  canPost,
  canRead,
  canSeeMessage,
  conflict,
  enforce,
  forbidden,
  limitExceeded,
  newId,
  notFound,
  type Actor,
  type AttachmentId,
  type AttachmentRecord,
  type ConversationId,
} from '../domain/index.js';
import type { Store } from '../store/index.js';
import { loadAccess, visibilityOf } from './access.js';
import {
  SAMPLE_BYTES,
  THUMBNAIL_MIME,
  categorize,
  detectType,
  isInlineSafe,
  largestSizeLimit,
  probeImage,
  sizeLimit,
} from './attachment-media.js';
import { renderAttachment } from './render.js';
import type { ServiceContext } from './service-context.js';

export interface AttachmentOptions {
  blobs: BlobStore;
  /** How long an upload may stay unsent before the sweeper removes it. */
  pendingTtlMs: number;
}

export interface UploadRequest {
  /** File name as the client calls it; sanitised. */
  name?: string;
  /** Uploaded as a voice note. */
  voice?: boolean;
  /** The body size the client announced (Content-Length), if any. */
  declaredSize?: number;
}

/** What a download needs: the headers' facts and a way to stream the bytes. */
export interface AttachmentDownload {
  name: string;
  mimeType: string;
  size: number;
  /** Strong entity tag, quoted. */
  etag: string;
  createdAt: number;
  /** Whether a browser may render it in place; otherwise it is served as a download. */
  inline: boolean;
  read(range?: ByteRange): Promise<Readable>;
}

/** An upload's bytes, committed to the blob store under `id`. */
interface Received {
  id: AttachmentId;
  ext: string;
  mimeType: string;
  category: AttachmentCategory;
  size: number;
  sha256: string;
}

const SWEEP_BATCH = 100;
/** Changes when thumbnails are made differently, so cached ones are not taken for new ones. */
const THUMBNAIL_VERSION = 1;

const contentKey = (id: AttachmentId): string => id;
const thumbnailKey = (id: AttachmentId): string => `${id}.thumb`;

/** A file name safe to store and echo in headers: no paths, no control characters, at most 255 characters. */
function cleanName(raw: string | undefined, ext: string): string {
  const printable = [...(raw ?? '')].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f).join('');
  const base = printable.split(/[\\/]/).pop()!.trim().slice(0, 255);
  return base === '' || base === '.' || base === '..' ? `file.${ext}` : base;
}

const tooLarge = (category: AttachmentCategory | 'any', limit: number): Error =>
  limitExceeded(
    category === 'any'
      ? `The file is larger than any upload this server accepts (${limit} bytes)`
      : `The file is larger than the ${category} limit of ${limit} bytes`,
    'body',
  );

/** Reads up to `bytes` from an iterator: the chunks read, and whether the body ended. */
async function readSample(it: AsyncIterator<Uint8Array>, bytes: number): Promise<{ sample: Buffer; done: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < bytes) {
    const r = await it.next();
    if (r.done) return { sample: Buffer.concat(chunks), done: true };
    chunks.push(r.value);
    size += r.value.byteLength;
  }
  return { sample: Buffer.concat(chunks), done: false };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Uploads, downloads and the life cycle of attachments. An upload belongs to one conversation and its
 * uploader; it stays pending (visible to the uploader only) until the uploader sends it with a
 * message in that conversation, and is swept after `pendingTtlMs` if never sent. Bytes go to the blob
 * store as they arrive, checked against the limit of the type detected from the first bytes.
 */
export class AttachmentService {
  readonly #blobs: BlobStore;
  readonly #pendingTtlMs: number;

  constructor(
    private readonly ctx: ServiceContext,
    options: AttachmentOptions,
  ) {
    this.#blobs = options.blobs;
    this.#pendingTtlMs = options.pendingTtlMs;
  }

  /**
   * Streams `body` into the blob store and records a pending attachment. Refuses with limit_exceeded
   * as soon as the announced size, or the bytes counted so far, pass the limit of the detected type;
   * the rest of the body is then never read.
   */
  async upload(actor: Actor, conversationId: ConversationId, req: UploadRequest, body: AsyncIterable<Uint8Array>): Promise<Attachment> {
    const access = await loadAccess(this.ctx.store, conversationId, actor);
    enforce(canPost(actor, access.conv, access.facts), 'conversationId');
    const voice = req.voice === true;
    const ceiling = voice ? this.ctx.limits.maxVoiceBytes : largestSizeLimit(this.ctx.limits);
    if (req.declaredSize !== undefined && req.declaredSize > ceiling) throw tooLarge(voice ? 'voice' : 'any', ceiling);

    const it = body[Symbol.asyncIterator]();
    let received: Received;
    try {
      received = await this.#receive(it, voice, req.declaredSize);
    } finally {
      // Stop listening to the body, read or not (the caller decides what becomes of the connection).
      await it.return?.();
    }
    const record: AttachmentRecord = {
      id: received.id,
      conversationId,
      uploaderId: actor.id,
      messageId: null,
      name: cleanName(req.name, received.ext),
      mimeType: received.mimeType,
      category: received.category,
      size: received.size,
      sha256: received.sha256,
      width: null,
      height: null,
      thumbnail: null,
      createdAt: this.ctx.clock(),
    };
    try {
      if (record.category === 'image') await this.#describeImage(record);
      await this.ctx.store.attachments.insert(record);
    } catch (err) {
      await this.#deleteBlobs(record);
      throw err;
    }
    return renderAttachment(record);
  }

  /** Types the body from its first bytes, then streams it into a new blob within that type's limit. */
  async #receive(it: AsyncIterator<Uint8Array>, voice: boolean, declaredSize: number | undefined): Promise<Received> {
    const { sample, done } = await readSample(it, SAMPLE_BYTES);
    if (sample.byteLength === 0) throw badRequest('The file is empty', 'body');
    const detected = await detectType(sample.subarray(0, SAMPLE_BYTES), done && sample.byteLength <= SAMPLE_BYTES);
    const { category, mimeType } = categorize(detected.mimeType, voice);
    const limit = sizeLimit(this.ctx.limits, category);
    if ((declaredSize ?? 0) > limit || sample.byteLength > limit) throw tooLarge(category, limit);

    const id = newId('attachment', this.ctx.clock());
    const hash = createHash('sha256');
    let size = 0;
    const writer = await this.#blobs.createWriter();
    try {
      const take = async (chunk: Uint8Array) => {
        size += chunk.byteLength;
        if (size > limit) throw tooLarge(category, limit);
        hash.update(chunk);
        await writer.write(chunk);
      };
      await take(sample);
      if (!done) {
        for (let r = await it.next(); !r.done; r = await it.next()) await take(r.value);
      }
      await writer.commit(contentKey(id));
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return { id, ext: detected.ext, mimeType, category, size, sha256: hash.digest('hex') };
  }

  async #describeImage(record: AttachmentRecord): Promise<void> {
    // Bounded by maxImageBytes; the image decoder needs the whole file anyway.
    const bytes = await readAll(await this.#blobs.read(contentKey(record.id)));
    const info = await probeImage(bytes, record.mimeType, this.ctx.limits.maxImagePixels);
    record.width = info.width;
    record.height = info.height;
    if (info.thumbnail) {
      await writeBlob(await this.#blobs.createWriter(), thumbnailKey(record.id), info.thumbnail.data);
      record.thumbnail = {
        mimeType: THUMBNAIL_MIME,
        width: info.thumbnail.width,
        height: info.thumbnail.height,
        size: info.thumbnail.data.byteLength,
      };
    }
  }

  /** An attachment's description, for whoever may download it. */
  async get(actor: Actor, conversationId: ConversationId, attachmentId: AttachmentId): Promise<Attachment> {
    return renderAttachment(await this.#visible(actor, conversationId, attachmentId));
  }

  /** The bytes of an attachment, or of its thumbnail, for whoever may see the message carrying it. */
  async download(
    actor: Actor,
    conversationId: ConversationId,
    attachmentId: AttachmentId,
    variant: 'content' | 'thumbnail',
  ): Promise<AttachmentDownload> {
    const a = await this.#visible(actor, conversationId, attachmentId);
    const blobs = this.#blobs;
    const open = (key: string) => async (range?: ByteRange) => {
      try {
        return await blobs.read(key, range);
      } catch (err) {
        if (isBlobNotFound(err)) throw notFound('Attachment content', 'attachmentId');
        throw err;
      }
    };
    if (variant === 'thumbnail') {
      if (!a.thumbnail) throw notFound('Thumbnail', 'attachmentId');
      const dot = a.name.lastIndexOf('.');
      return {
        name: `${dot > 0 ? a.name.slice(0, dot) : a.name}.thumb.webp`,
        mimeType: a.thumbnail.mimeType,
        size: a.thumbnail.size,
        etag: `"${a.sha256}.t${THUMBNAIL_VERSION}"`,
        createdAt: a.createdAt,
        inline: true,
        read: open(thumbnailKey(a.id)),
      };
    }
    return {
      name: a.name,
      mimeType: a.mimeType,
      size: a.size,
      etag: `"${a.sha256}"`,
      createdAt: a.createdAt,
      inline: isInlineSafe(a.mimeType),
      read: open(contentKey(a.id)),
    };
  }

  /** Deletes a pending upload (its uploader only); a sent one goes with its message. */
  async deletePending(actor: Actor, conversationId: ConversationId, attachmentId: AttachmentId): Promise<void> {
    const a = await this.#visible(actor, conversationId, attachmentId);
    if (a.messageId !== null) throw conflict('The attachment was sent: delete the message instead', 'attachmentId');
    if (await this.ctx.store.attachments.releasePending(a.id, this.ctx.clock())) await this.purge([a]);
  }

  /** Removes the bytes and records of attachments already released (or expired). Failures are left to the sweeper. */
  async purge(attachments: readonly AttachmentRecord[]): Promise<void> {
    for (const a of attachments) {
      await this.#deleteBlobs(a);
      await this.ctx.store.attachments.remove(a.id);
    }
  }

  /**
   * Removes pending uploads older than the TTL, attachments of deleted messages and of deleted
   * conversations, and staged writes a crash left behind. Returns how many attachments went.
   */
  async sweep(now: number = this.ctx.clock()): Promise<number> {
    const cutoff = now - this.#pendingTtlMs;
    let removed = 0;
    for (;;) {
      const batch = await this.ctx.store.attachments.listPurgeable(cutoff, SWEEP_BATCH);
      for (const a of batch) {
        // A pending upload may be sent while the sweep runs: release it first, and only if still pending.
        if (a.messageId === null && !(await this.ctx.store.attachments.releasePending(a.id, now))) continue;
        await this.purge([a]);
        removed += 1;
      }
      if (batch.length < SWEEP_BATCH) break;
    }
    await this.#blobs.discardStaleWrites(cutoff);
    return removed;
  }

  /** The attachment, if the actor may see it: pending ones by their uploader, sent ones by whoever sees the message. */
  async #visible(actor: Actor, conversationId: ConversationId, attachmentId: AttachmentId): Promise<AttachmentRecord> {
    const store = this.ctx.store;
    const access = await loadAccess(store, conversationId, actor);
    enforce(canRead(actor, access.conv, access.facts), 'conversationId');
    const a = await store.attachments.get(attachmentId);
    if (!a || a.conversationId !== conversationId) throw notFound('Attachment', 'attachmentId');
    if (a.messageId === null) {
      if (a.uploaderId !== actor.id) throw notFound('Attachment', 'attachmentId');
      return a;
    }
    const message = await store.messages.get(conversationId, a.messageId);
    if (!message || message.deletedAt !== null || !canSeeMessage(visibilityOf(access.member!), message)) {
      throw notFound('Attachment', 'attachmentId');
    }
    return a;
  }

  async #deleteBlobs(a: AttachmentRecord): Promise<void> {
    await this.#blobs.delete(contentKey(a.id));
    await this.#blobs.delete(thumbnailKey(a.id));
  }
}

async function writeBlob(writer: BlobWriter, key: string, data: Uint8Array): Promise<void> {
  try {
    await writer.write(data);
    await writer.commit(key);
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/**
 * The attachments a message is sent with: each must be a pending upload of `senderId` to this
 * conversation. Runs inside the send's transaction; `bind` then ties them to the message.
 */
export async function pendingAttachmentsForSend(
  tx: Store,
  senderId: Actor['id'],
  conversationId: ConversationId,
  ids: readonly AttachmentId[],
): Promise<AttachmentRecord[]> {
  const found = new Map((await tx.attachments.getMany(ids)).map((a) => [a.id, a]));
  return ids.map((id, i) => {
    const a = found.get(id);
    const target = `attachments[${i}]`;
    if (!a || a.conversationId !== conversationId) throw notFound('Attachment', target);
    if (a.uploaderId !== senderId) throw forbidden('Only its uploader can send an attachment', target);
    if (a.messageId !== null) throw conflict('The attachment was already sent with another message', target);
    return a;
  });
}
