/**
 * blobs/: attachment bytes. Owns the `BlobStore` contract (staged writes committed atomically under a
 * key, ranged reads, deletes) and its filesystem implementation in the data directory; an object store
 * can implement the same contract later. Knows nothing of conversations, users or permissions: the
 * attachment service decides what to store and who may read it. Imports only Node built-ins; never
 * the store, bus, services, HTTP or database drivers.
 */
export type { BlobStore, BlobWriter, ByteRange } from './blob-store.js';
export { BlobNotFound, isBlobNotFound } from './blob-store.js';
export { FsBlobStore } from './fs-blob-store.js';
