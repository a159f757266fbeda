import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../src/blobs/index.js';
import { describeBlobStore } from './contracts/blob-store.contract.js';

// The blob store contract, every implementation (the filesystem one; an object store would join here).
describeBlobStore({
  name: 'filesystem',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'parley-blobs-'));
    return Object.assign(new FsBlobStore(join(dir, 'attachments')), {
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    });
  },
});
