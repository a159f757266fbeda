import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestServer } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';
import { rawUpload } from './helpers/raw-upload.js';

// A 200 MB upload and download through a server running in this process: the bytes stream between the
// socket and the disk, so the process's resident memory grows by a small fraction of the body, not by
// the body. (This file runs in its own process, so nothing else moves the numbers.)

const STORES = await storeImpls();
const MiB = 1024 * 1024;
const TOTAL = 200 * MiB;
const BOUND = 64 * MiB;

/** Samples the resident set size until stopped; returns the highest value seen. */
function rssSampler(): () => number {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage().rss);
  };
}

describe.each(STORES)('$name: a 200 MB attachment', (impl) => {
  it('streams in and out while the server process memory stays flat', async () => {
    await using t = await startTestServer(impl, { PARLEY_MAX_ATTACHMENT_BYTES: String(300 * MiB) });
    const owner = await t.user();
    const room = await owner.api.post('/v1/conversations', { kind: 'room', title: 'Big files' });
    const cid = room.body.conversation.id as string;
    const url = `${t.url}/v1/conversations/${cid}/attachments?name=big.bin`;

    // Warm up every code path (type detection, the blob store, the database) before measuring.
    const warm = await rawUpload(url, { token: owner.token, body: (async function* () { yield Buffer.alloc(10_000, 1); })() });
    expect(warm.status, JSON.stringify(warm.body)).toBe(201);

    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) % 256;
    const hash = createHash('sha256');
    async function* body(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < TOTAL; sent += chunk.length) {
        hash.update(chunk);
        yield chunk;
      }
    }

    const baseline = process.memoryUsage().rss;
    const stopUpload = rssSampler();
    const res = await rawUpload(url, { token: owner.token, contentLength: TOTAL, body: body() });
    const uploadPeak = stopUpload();
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ size: TOTAL, category: 'attachment', sha256: hash.digest('hex') });
    expect(uploadPeak - baseline).toBeLessThan(BOUND);

    // The download streams too: read it chunk by chunk, hashing, never holding it whole.
    const sent = await owner.api.post(`/v1/conversations/${cid}/messages`, { attachments: [res.body.id] });
    expect(sent.status).toBe(201);
    const stopDownload = rssSampler();
    const download = await fetch(`${t.url}${res.body.url}`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-length')).toBe(String(TOTAL));
    const back = createHash('sha256');
    let received = 0;
    for await (const part of download.body!) {
      back.update(part);
      received += part.byteLength;
    }
    const downloadPeak = stopDownload();
    expect(received).toBe(TOTAL);
    expect(back.digest('hex')).toBe(res.body.sha256);
    expect(downloadPeak - baseline).toBeLessThan(BOUND);
  }, 180_000);
});
