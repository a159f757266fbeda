import { describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import { isBlobNotFound, type BlobStore } from '../../src/blobs/index.js';

/** A blob store under test, made fresh for each test. */
export interface BlobStoreImpl {
  name: string;
  open(): Promise<BlobStore & { dispose?(): Promise<void> }>;
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let n = 0;
const key = (): string => `k${Date.now()}_${n++}`;

/** The contract every BlobStore implementation passes (the filesystem one today; an object store later). */
export function describeBlobStore(impl: BlobStoreImpl): void {
  describe(`${impl.name}: blob store contract`, () => {
    async function withStore(fn: (blobs: BlobStore) => Promise<void>): Promise<void> {
      const blobs = await impl.open();
      try {
        await fn(blobs);
      } finally {
        await blobs.dispose?.();
      }
    }

    it('nothing is readable until commit; then the whole blob and any range', () =>
      withStore(async (blobs) => {
        const k = key();
        const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
        const w = await blobs.createWriter();
        await w.write(data.subarray(0, 300));
        await w.write(data.subarray(300));
        expect(await blobs.stat(k)).toBeUndefined();
        await expect(blobs.read(k)).rejects.toSatisfy(isBlobNotFound);
        await w.commit(k);
        expect(await blobs.stat(k)).toEqual({ size: 1000 });
        expect((await bytesOf(await blobs.read(k))).equals(data)).toBe(true);
        expect((await bytesOf(await blobs.read(k, { start: 0, end: 9 }))).equals(data.subarray(0, 10))).toBe(true);
        expect((await bytesOf(await blobs.read(k, { start: 990, end: 999 }))).equals(data.subarray(990))).toBe(true);
        expect((await bytesOf(await blobs.read(k, { start: 5, end: 5 }))).equals(data.subarray(5, 6))).toBe(true);
      }));

    it('an aborted write leaves nothing, and abort is idempotent', () =>
      withStore(async (blobs) => {
        const w = await blobs.createWriter();
        await w.write(Buffer.from('partial'));
        await w.abort();
        await w.abort();
        expect(await blobs.discardStaleWrites(Date.now() + 60_000)).toBe(0);
      }));

    it('deletes; deleting what is not there is fine', () =>
      withStore(async (blobs) => {
        const k = key();
        const w = await blobs.createWriter();
        await w.write(Buffer.from('x'));
        await w.commit(k);
        await blobs.delete(k);
        await blobs.delete(k);
        expect(await blobs.stat(k)).toBeUndefined();
        await expect(blobs.read(k)).rejects.toSatisfy(isBlobNotFound);
      }));

    it('discards stale staged writes (a crash mid-upload), not fresh ones', () =>
      withStore(async (blobs) => {
        const w = await blobs.createWriter();
        await w.write(Buffer.from('in flight'));
        expect(await blobs.discardStaleWrites(Date.now() - 60_000)).toBe(0);
        expect(await blobs.discardStaleWrites(Date.now() + 60_000)).toBe(1);
      }));

    it('refuses keys that could escape or are not URL-safe', () =>
      withStore(async (blobs) => {
        for (const bad of ['', '../x', 'a/b', 'a\\b', '.hidden', 'a..b', 'é', 'x'.repeat(201)]) {
          await expect(blobs.read(bad), bad).rejects.toThrow(/Invalid blob key/);
          const w = await blobs.createWriter();
          await expect(w.commit(bad), bad).rejects.toThrow(/Invalid blob key/);
          await w.abort();
        }
      }));
  });
}
