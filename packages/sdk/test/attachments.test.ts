import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationClient } from '@parley/sdk';
import { rejection } from './helpers/assertions.js';
import { FaultProxy } from './helpers/fault-proxy.js';
import { collect, startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const impls = await storeImpls();

/** A 40×20 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAACgAAAAUCAIAAABwJOjsAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAMElEQVRIiWM4oRE1IIhh1GKN0aA+MZq4okazk8ZoAXJitMiMGq0kNEarxajhXy0CAMNoB32QsTEnAAAAAElFTkSuQmCC',
  'base64',
);
const LIMIT = 3 * 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const text = (n: number) => Buffer.from('parley '.repeat(Math.ceil(n / 7)).slice(0, n));

/** Chunks of text, made as they are read (so nothing holds the whole body). */
async function* chunks(count: number, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i += 1) yield text(size);
}

async function bytesOf(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(body).arrayBuffer());
}

for (const impl of impls) {
  describe(`${impl.name}: attachments`, () => {
    let t: TestServer;
    let alice: TestUser;
    let bob: TestUser;
    let conv: ConversationClient;
    let conversationId: string;
    beforeAll(async () => {
      t = await startTestServer(impl, { PARLEY_MAX_ATTACHMENT_BYTES: String(LIMIT) });
      [alice, bob] = await Promise.all([t.user(), t.user()]);
      conversationId = (await alice.client.createRoom({ title: 'Files', members: [bob.user.id] })).conversation.id;
      conv = alice.client.conversation(conversationId);
    });
    afterAll(() => t.close());

    it('getLimits reports the per-type limits (chat.chats ChatLimits)', async () => {
      const limits = await t.client({}).getLimits();
      expect(limits.maxAttachmentBytes).toBe(LIMIT);
      for (const key of ['maxImageBytes', 'maxVideoBytes', 'maxAudioBytes', 'maxVoiceBytes', 'maxAttachmentsPerMessage'] as const) {
        expect(limits[key]).toBeGreaterThan(0);
      }
    });

    it('uploads bytes, a Blob, a ReadableStream and an async iterable (a Node stream): pending, the uploader\'s alone', async () => {
      const bytes = text(1000);
      const fromBytes = await conv.uploadAttachment(bytes, { name: 'notes.txt' });
      expect(fromBytes).toMatchObject({ conversationId, uploaderId: alice.user.id, messageId: null, name: 'notes.txt', mimeType: 'text/plain', category: 'attachment', size: 1000, sha256: sha256(bytes) });
      expect((await conv.getAttachment(fromBytes.id)).id).toBe(fromBytes.id);
      expect((await rejection(bob.client.conversation(conversationId).getAttachment(fromBytes.id))).code).toBe('not_found');

      const image = await conv.uploadAttachment(new Blob([PNG], { type: 'image/png' }), { name: 'dot.png' });
      expect(image).toMatchObject({ category: 'image', mimeType: 'image/png', width: 40, height: 20, size: PNG.length });
      expect(image.thumbnail).toMatchObject({ mimeType: 'image/webp' });

      // 2 MB in 64 KiB chunks, sent chunked as they are produced.
      const streamed = await conv.uploadAttachment(Readable.from(chunks(32, 65_536)), { name: 'big.txt' });
      expect(streamed).toMatchObject({ size: 32 * 65_536, sha256: sha256(Buffer.concat(await collect(chunks(32, 65_536)))) });
      const web = new Blob([bytes]).stream();
      expect((await conv.uploadAttachment(web)).sha256).toBe(sha256(bytes));
      // A File's own name is used when none is given.
      expect((await conv.uploadAttachment(new File([bytes], 'from-file.txt'))).name).toBe('from-file.txt');
    });

    it('sends a message with attachments; whoever sees the message may describe and download them', async () => {
      const bytes = text(5000);
      const a = await conv.uploadAttachment(bytes, { name: 'report.txt' });
      const b = await conv.uploadAttachment(new Blob([PNG]), { name: 'chart.png' });
      const message = await conv.sendMessage('The report', { attachments: [a.id, b.id] });
      expect(message.attachments.map((x) => [x.id, x.messageId])).toEqual([[a.id, message.id], [b.id, message.id]]);
      const bobs = bob.client.conversation(conversationId);
      expect((await bobs.getAttachment(a.id)).messageId).toBe(message.id);

      const whole = await bobs.downloadAttachment(a.id);
      expect([whole.status, whole.contentType, whole.contentLength, whole.etag, whole.range]).toEqual([200, 'text/plain; charset=utf-8', 5000, `"${a.sha256}"`, undefined]);
      expect((await bytesOf(whole.body)).equals(bytes)).toBe(true);

      const part = await bobs.downloadAttachment(a.id, { offset: 10, count: 20 });
      expect([part.status, part.contentLength, part.range]).toEqual([206, 20, { start: 10, end: 29, size: 5000 }]);
      expect((await bytesOf(part.body)).equals(bytes.subarray(10, 30))).toBe(true);
      const tail = await bobs.downloadAttachment(a.id, { offset: 4990 });
      expect((await bytesOf(tail.body)).equals(bytes.subarray(4990))).toBe(true);
      const past = await rejection(bobs.downloadAttachment(a.id, { offset: 5000 }));
      expect([past.status, past.code]).toEqual([416, 'range_not_satisfiable']);
      await expect(bobs.downloadAttachment(a.id, { offset: -1 })).rejects.toThrow(RangeError);

      const thumbnail = await bobs.downloadAttachment(b.id, { thumbnail: true });
      expect(thumbnail.contentType).toBe('image/webp');
      expect((await bytesOf(thumbnail.body)).subarray(0, 4).toString('latin1')).toBe('RIFF');

      // Attachments alone, without content.
      const c = await conv.uploadAttachment(bytes);
      expect((await conv.sendMessage({ attachments: [c.id] })).attachments).toHaveLength(1);
      // Sent once only.
      expect((await rejection(conv.sendMessage('again', { attachments: [a.id] }))).code).toBe('conflict');
      // Deleting the message deletes its files.
      await conv.deleteMessage(message.id);
      expect((await rejection(bobs.downloadAttachment(a.id))).code).toBe('not_found');
    });

    it('the per-attempt timeout covers a download\'s headers, not the reading of its body', async () => {
      const bytes = text(2000);
      const a = await conv.uploadAttachment(bytes);
      const quick = t.client({ token: alice.token, timeoutMs: 100 }).conversation(conversationId);
      const download = await quick.downloadAttachment(a.id);
      // The application reads the body later than the timeout: the stream must still be whole.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await bytesOf(download.body)).equals(bytes)).toBe(true);
      // The caller's signal still cancels it.
      const controller = new AbortController();
      const cancelled = await quick.downloadAttachment(a.id, { signal: controller.signal });
      controller.abort(new Error('stop'));
      await expect(bytesOf(cancelled.body)).rejects.toThrow();
    });

    it('deleteAttachment removes a pending upload; a sent one goes with its message', async () => {
      const pending = await conv.uploadAttachment(text(10));
      await conv.deleteAttachment(pending.id);
      expect((await rejection(conv.getAttachment(pending.id))).code).toBe('not_found');
      const sent = await conv.uploadAttachment(text(10));
      await conv.sendMessage('kept', { attachments: [sent.id] });
      const refused = await rejection(conv.deleteAttachment(sent.id));
      expect([refused.status, refused.code]).toEqual([409, 'conflict']);
      expect((await rejection(bob.client.conversation(conversationId).sendMessage('not mine', { attachments: [sent.id] }))).code).toBe('forbidden');
    });

    it('refuses uploads over the limit, voice notes that are not audio, strangers and anonymous callers', async () => {
      const tooBig = await rejection(conv.uploadAttachment(new Uint8Array(LIMIT + 1)));
      expect([tooBig.status, tooBig.code]).toEqual([413, 'limit_exceeded']);
      const tooBigStream = await rejection(conv.uploadAttachment(chunks(64, 65_536)));
      expect([tooBigStream.status, tooBigStream.code]).toEqual([413, 'limit_exceeded']);
      const voice = await rejection(conv.uploadAttachment(text(100), { voice: true }));
      expect([voice.status, voice.code, voice.target]).toEqual([400, 'bad_request', 'voice']);
      const empty = await rejection(conv.uploadAttachment(new Uint8Array(0)));
      expect([empty.status, empty.code]).toEqual([400, 'bad_request']);
      const stranger = await t.user();
      expect((await rejection(stranger.client.conversation(conversationId).uploadAttachment(text(10)))).code).toBe('not_found');
      expect((await rejection(t.client({}).conversation(conversationId).uploadAttachment(text(10)))).code).toBe('unauthenticated');
    });

    it('retries a Blob upload after a 429, but never sends a stream twice', async () => {
      await using proxy = await FaultProxy.start(t.url);
      const client = t.client({ baseUrl: proxy.url, token: alice.token, retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 } });
      const proxied = client.conversation(conversationId);
      const isUpload = (r: { method: string; path: string }) => r.method === 'POST' && r.path.endsWith('/attachments');
      proxy.failNext(1, { status: 429, headers: { 'retry-after': '0' }, match: isUpload });
      expect((await proxied.uploadAttachment(new Blob([text(100)]))).size).toBe(100);
      expect(proxy.requests.filter(isUpload)).toHaveLength(2);

      proxy.requests.length = 0;
      proxy.failNext(1, { status: 429, headers: { 'retry-after': '0' }, match: isUpload });
      const once = await rejection(proxied.uploadAttachment(chunks(2, 100)));
      expect(once.code).toBe('rate_limited');
      expect(proxy.requests.filter(isUpload)).toHaveLength(1);
    });
  });
}
