import type { Readable } from 'node:stream';

/** An inclusive byte range, as HTTP `Range` names one. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A blob being written. Bytes are staged where no reader can see them until `commit`, so a failed or
 * refused upload never leaves a partial file under a real key. An object store maps this onto a
 * multipart upload (write = upload part, commit = complete, abort = abort).
 */
export interface BlobWriter {
  /** Appends a chunk; resolves when the chunk may be reused (backpressure for the caller). */
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the written bytes readable under `key`, atomically. */
  commit(key: string): Promise<void>;
  /** Discards what was written. Safe to call twice, or after a failed commit. */
  abort(): Promise<void>;
}

/**
 * Where attachment bytes live. Keys are chosen by the caller (URL-safe: letters, digits, `_`, `-`,
 * `.`); blobs are immutable once committed. The filesystem implementation keeps them in the data
 * directory; an object store can implement the same contract.
 */
export interface BlobStore {
  /** Starts a new blob. */
  createWriter(): Promise<BlobWriter>;
  /** Streams the blob, or an inclusive byte range of it. Throws BlobNotFound when it does not exist. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** The blob's size in bytes, or undefined when it does not exist. */
  stat(key: string): Promise<{ size: number } | undefined>;
  /** Removes a blob; removing one that does not exist is not an error. */
  delete(key: string): Promise<void>;
  /** Discards staged writes started before `cutoff` (epoch ms) that were never committed (a crash mid-upload). */
  discardStaleWrites(cutoff: number): Promise<number>;
}

/** The blob asked for does not exist. */
export class BlobNotFound extends Error {
  override readonly name = 'BlobNotFound';
  constructor(readonly key: string) {
    super(`No blob under key ${key}`);
  }
}

export function isBlobNotFound(err: unknown): err is BlobNotFound {
  return err instanceof BlobNotFound;
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

/** Throws on a key that could escape a directory or is not URL-safe. */
export function checkBlobKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) throw new Error(`Invalid blob key: ${JSON.stringify(key)}`);
}
