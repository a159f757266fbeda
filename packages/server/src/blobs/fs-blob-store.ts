import { createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobNotFound, checkBlobKey, type BlobStore, type BlobWriter, type ByteRange } from './blob-store.js';

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';

/**
 * Blobs as files under one directory (`<dataDir>/attachments` by default): committed blobs in 256
 * shard directories, writes in progress in `.staging/` on the same filesystem, so a commit is a
 * rename and readers never see a partial file.
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #staging: string;

  constructor(root: string) {
    this.#root = root;
    this.#staging = join(root, '.staging');
  }

  #path(key: string): string {
    checkBlobKey(key);
    // Sharded by a hash of the key: keys share prefixes (type, time), which would crowd one directory.
    const shard = createHash('sha256').update(key).digest('hex').slice(0, 2);
    return join(this.#root, shard, key);
  }

  async createWriter(): Promise<BlobWriter> {
    await mkdir(this.#staging, { recursive: true, mode: 0o700 });
    const temp = join(this.#staging, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const file = await open(temp, 'wx', 0o600);
    return new FsBlobWriter(file, temp, (key) => this.#path(key));
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    let file: FileHandle;
    try {
      file = await open(this.#path(key), 'r');
    } catch (err) {
      if (isMissing(err)) throw new BlobNotFound(key);
      throw err;
    }
    return file.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    try {
      return { size: (await stat(this.#path(key))).size };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async discardStaleWrites(cutoff: number): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#staging);
    } catch (err) {
      if (isMissing(err)) return 0;
      throw err;
    }
    let removed = 0;
    for (const name of names) {
      const startedAt = Number(name.split('-')[0]);
      if (Number.isFinite(startedAt) && startedAt < cutoff) {
        await rm(join(this.#staging, name), { force: true });
        removed += 1;
      }
    }
    return removed;
  }
}

class FsBlobWriter implements BlobWriter {
  #open = true;

  constructor(
    private readonly file: FileHandle,
    private readonly temp: string,
    private readonly pathOf: (key: string) => string,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    // A write may be partial; loop until the whole chunk is on its way to disk.
    while (offset < chunk.byteLength) {
      const { bytesWritten } = await this.file.write(chunk, offset, chunk.byteLength - offset);
      offset += bytesWritten;
    }
  }

  async commit(key: string): Promise<void> {
    const target = this.pathOf(key);
    await this.file.sync();
    await this.#close();
    await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
    await rename(this.temp, target);
  }

  async abort(): Promise<void> {
    await this.#close().catch(() => {});
    await unlink(this.temp).catch((err: unknown) => {
      if (!isMissing(err)) throw err;
    });
  }

  async #close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.file.close();
  }
}
