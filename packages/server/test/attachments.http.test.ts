import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type ApiResponse, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';
import { rawUpload } from './helpers/raw-upload.js';

// Attachments over HTTP: uploads checked against the limit of the type detected from the bytes,
// sending them with messages, downloads (ranges, headers, who may), thumbnails, and clean-up.

const STORES = await storeImpls();

// Small, distinct limits: a file checked against the wrong category's limit shows.
const LIMITS = { attachment: 3000, image: 9000, video: 5000, audio: 6000, voice: 2000 } as const;
const TTL_SECONDS = 3600;
const ENV = {
  PARLEY_MAX_ATTACHMENT_BYTES: String(LIMITS.attachment),
  PARLEY_MAX_IMAGE_BYTES: String(LIMITS.image),
  PARLEY_MAX_VIDEO_BYTES: String(LIMITS.video),
  PARLEY_MAX_AUDIO_BYTES: String(LIMITS.audio),
  PARLEY_MAX_VOICE_BYTES: String(LIMITS.voice),
  PARLEY_MAX_IMAGE_PIXELS: '200000',
  PARLEY_MAX_ATTACHMENTS_PER_MESSAGE: '3',
  PARLEY_ATTACHMENT_TTL_SECONDS: String(TTL_SECONDS),
};

function expectError(res: { status: number; body: any }, status: number, code: string, target?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body?.error?.code, JSON.stringify(res.body)).toBe(code);
  expect(res.body.error.message.length).toBeGreaterThan(0);
  if (target !== undefined) expect(res.body.error.target).toBe(target);
}

const pad = (head: Buffer, size: number): Buffer => Buffer.concat([head, Buffer.alloc(size - head.length, 0)]);
const png = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();

let tinyPng: Buffer;
/** Bytes of `size` whose signature says `category` (any size: the rest is padding). */
const BYTES: Record<keyof typeof LIMITS, (size: number) => Buffer> = {
  attachment: (size) => Buffer.alloc(size, 0),
  image: (size) => pad(tinyPng, size),
  video: (size) => pad(Buffer.from('000000186674797069736f6d0000000069736f6d69736f32', 'hex'), size),
  audio: (size) => pad(Buffer.from('fLaC'), size),
  voice: (size) => {
    const ogg = Buffer.alloc(size, 0);
    ogg.write('OggS', 0);
    ogg.write('OpusHead', 28);
    return ogg;
  },
};

describe.each(STORES)('$name: attachments over HTTP', (impl) => {
  let t: TestServer;
  beforeAll(async () => {
    tinyPng = await png(8, 8);
    t = await startTestServer(impl, ENV);
  });
  afterAll(() => t.close());

  async function openRoom(owner: TestUser, members: TestUser[] = [], extra: Record<string, unknown> = {}): Promise<string> {
    const res = await owner.api.post('/v1/conversations', {
      kind: 'room',
      title: `Files ${Math.random().toString(36).slice(2)}`,
      members: members.map((m) => m.user.id),
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.conversation.id;
  }

  async function upload(
    u: TestUser | undefined,
    cid: string,
    body: Buffer,
    query = '',
    contentType = 'application/octet-stream',
  ): Promise<ApiResponse<any>> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (u) headers['authorization'] = `Bearer ${u.token}`;
    const res = await fetch(`${t.url}/v1/conversations/${cid}/attachments${query}`, { method: 'POST', headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? text : JSON.parse(text) };
  }

  async function uploaded(u: TestUser, cid: string, body: Buffer, query = ''): Promise<any> {
    const res = await upload(u, cid, body, query);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  async function download(u: TestUser | undefined, path: string, headers: Record<string, string> = {}) {
    const h: Record<string, string> = { ...headers };
    if (u) h['authorization'] = `Bearer ${u.token}`;
    const res = await fetch(t.url + path, { headers: h });
    const bytes = Buffer.from(await res.arrayBuffer());
    const json = (res.headers.get('content-type') ?? '').includes('json') && bytes.length > 0 ? JSON.parse(bytes.toString()) : undefined;
    return { status: res.status, headers: res.headers, bytes, body: json };
  }

  async function sendWith(u: TestUser, cid: string, ids: string[], content?: string): Promise<any> {
    const res = await u.api.post(`/v1/conversations/${cid}/messages`, { attachments: ids, ...(content ? { content } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  /** Every file under the attachments directory, by name. */
  function blobFiles(): string[] {
    const root = join(t.server.config.dataDir, 'attachments');
    try {
      return readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name);
    } catch {
      return [];
    }
  }

  it('GET /v1/limits reports every per-type limit from the configuration', async () => {
    const res = await t.anon.get('/v1/limits');
    expect(res.body).toMatchObject({
      maxAttachmentBytes: LIMITS.attachment,
      maxImageBytes: LIMITS.image,
      maxVideoBytes: LIMITS.video,
      maxAudioBytes: LIMITS.audio,
      maxVoiceBytes: LIMITS.voice,
      maxImagePixels: 200000,
      maxAttachmentsPerMessage: 3,
    });
  });

  describe('per-type limits', () => {
    const CASES = (Object.keys(LIMITS) as (keyof typeof LIMITS)[]).map((c) => [c] as const);

    it.each(CASES)('%s: just under and at the limit are accepted, just over is 413', async (category) => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const limit = LIMITS[category];
      const query = category === 'voice' ? '?voice=true' : '';
      for (const size of [limit - 1, limit]) {
        const bytes = BYTES[category](size);
        const a = await uploaded(owner, cid, bytes, query);
        expect(a).toMatchObject({ category, size, conversationId: cid, uploaderId: owner.user.id, messageId: null });
        expect(a.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      }
      const over = await upload(owner, cid, BYTES[category](limit + 1), query);
      expectError(over, 413, 'limit_exceeded', 'body');
      expect(over.body.error.message).toContain(String(limit));
    });

    it('the detected types are recorded', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const types = await Promise.all(
        (Object.keys(LIMITS) as (keyof typeof LIMITS)[]).map(async (c) => {
          const a = await uploaded(owner, cid, BYTES[c](1000), c === 'voice' ? '?voice=true' : '');
          return [c, a.mimeType, a.name];
        }),
      );
      expect(types).toEqual([
        ['attachment', 'application/octet-stream', 'file.bin'],
        ['image', 'image/png', 'file.png'],
        ['video', 'video/mp4', 'file.mp4'],
        ['audio', 'audio/flac', 'file.flac'],
        ['voice', 'audio/ogg; codecs=opus', 'file.opus'],
      ]);
    });

    it('file names are kept, without directories or control characters', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const named = async (name: string) => (await uploaded(owner, cid, BYTES.attachment(5), `?name=${encodeURIComponent(name)}`)).name;
      expect(await named('Résumé – final (2).pdf')).toBe('Résumé – final (2).pdf');
      expect(await named('../../etc/passwd')).toBe('passwd');
      expect(await named('C:\\Users\\me\\notes.txt')).toBe('notes.txt');
      expect(await named('a\u0007b\u007f.txt')).toBe('ab.txt');
      expect(await named('..')).toBe('file.bin');
      expect(await named('dir/')).toBe('file.bin');
    });

    it('an announced Content-Length over every limit is refused before any body byte is sent', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      async function* nothing(): AsyncGenerator<Buffer> {
        await new Promise(() => {}); // the body never comes: only the headers decide
        yield Buffer.alloc(0);
      }
      const res = await rawUpload(`${t.url}/v1/conversations/${cid}/attachments`, {
        token: owner.token,
        contentLength: 50 * 1024 * 1024,
        body: nothing(),
      });
      expectError(res, 413, 'limit_exceeded', 'body');
      expect(res.sent).toBe(0);
      expect(res.headers['connection']).toBe('close');
    });

    it('an announced length over the detected type\'s limit is refused after the first bytes', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const total = LIMITS.audio; // within the largest limit, over the attachment limit that these bytes get
      const bytes = BYTES.attachment(total);
      async function* firstChunkOnly(): AsyncGenerator<Buffer> {
        yield bytes.subarray(0, 4100);
        await new Promise(() => {}); // the rest is never needed
      }
      const res = await rawUpload(`${t.url}/v1/conversations/${cid}/attachments`, {
        token: owner.token,
        contentLength: total,
        body: firstChunkOnly(),
      });
      expectError(res, 413, 'limit_exceeded', 'body');
      expect(res.body.error.message).toContain(String(LIMITS.attachment));
    });

    it('a chunked upload is cut off once it passes the limit, without reading the rest', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const total = 256 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 7);
      let produced = 0;
      async function* big(): AsyncGenerator<Buffer> {
        yield pad(tinyPng, 4200);
        produced += 4200;
        while (produced < total) {
          produced += chunk.length;
          yield chunk;
        }
      }
      const res = await rawUpload(`${t.url}/v1/conversations/${cid}/attachments`, { token: owner.token, body: big() });
      expectError(res, 413, 'limit_exceeded', 'body');
      expect(res.body.error.message).toContain(String(LIMITS.image));
      expect(res.sent).toBeLessThan(total / 4);
      expect(blobFiles().some((f) => !f.startsWith('att_'))).toBe(false); // nothing staged is left behind
    });

    it('a chunked upload without any Content-Type is accepted', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const bytes = BYTES.video(LIMITS.video);
      async function* halves(): AsyncGenerator<Buffer> {
        yield bytes.subarray(0, 2500);
        yield bytes.subarray(2500);
      }
      const res = await rawUpload(`${t.url}/v1/conversations/${cid}/attachments?name=clip.mp4`, { token: owner.token, contentType: null, body: halves() });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ category: 'video', size: LIMITS.video, name: 'clip.mp4' });
      // A JSON file is a file like any other: the body is never parsed.
      const json = await upload(owner, cid, Buffer.from('{"kind":"room","__proto__":{"admin":true}}'), '?name=data.json', 'application/json');
      expect(json.body).toMatchObject({ category: 'attachment', mimeType: 'text/plain', size: 42, name: 'data.json' });
    });

    it('an upload the client abandons half-way leaves nothing behind', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      async function* half(): AsyncGenerator<Buffer> {
        yield BYTES.image(6000); // past the type-detection sample: the bytes get staged
        await new Promise(() => {}); // and the rest never comes
      }
      const staging = join(t.server.config.dataDir, 'attachments', '.staging');
      const staged = () => {
        try {
          return readdirSync(staging);
        } catch {
          return [];
        }
      };
      let client: ClientRequest | undefined;
      const result = rawUpload(`${t.url}/v1/conversations/${cid}/attachments`, {
        token: owner.token,
        contentLength: LIMITS.image,
        body: half(),
        onRequest: (req) => {
          client = req;
        },
      });
      await vi.waitFor(() => expect(staged()).toHaveLength(1), { timeout: 10_000, interval: 10 });
      client!.destroy();
      await expect(result).rejects.toThrow();
      // The server notices the broken connection on its own schedule: wait for it to clean up.
      await vi.waitFor(() => expect(staged()).toEqual([]), { timeout: 10_000, interval: 10 });
      const listed = await t.server.store.attachments.listPurgeable(Date.now() + 1e9, 1000);
      expect(listed.filter((a) => a.conversationId === cid)).toEqual([]);
    });

    it('a spoofed Content-Type changes nothing: the bytes decide the type, the limit and how it is served', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const html = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');
      const a = (await upload(owner, cid, html, '?name=cat.png', 'image/png')).body;
      expect(a).toMatchObject({ category: 'attachment', mimeType: 'text/plain', name: 'cat.png' });
      await sendWith(owner, cid, [a.id]);
      const got = await download(owner, `/v1/conversations/${cid}/attachments/${a.id}/content`);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(got.headers.get('content-disposition')).toMatch(/^attachment;/);
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');

      // Claiming "image" does not buy the image limit: these bytes are over the attachment limit.
      const big = Buffer.from('x'.repeat(LIMITS.attachment + 10));
      expectError(await upload(owner, cid, big, '', 'image/png'), 413, 'limit_exceeded');
      // And real image bytes declared as HTML are an image.
      expect((await upload(owner, cid, tinyPng, '', 'text/html')).body).toMatchObject({ category: 'image', mimeType: 'image/png' });
      // An SVG (active content) is a download, whatever it claims.
      const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
      const s = (await upload(owner, cid, svg, '?name=logo.svg', 'image/svg+xml')).body;
      expect(s).toMatchObject({ category: 'attachment', mimeType: 'application/xml' });
      await sendWith(owner, cid, [s.id]);
      const svgGot = await download(owner, `/v1/conversations/${cid}/attachments/${s.id}/content`);
      expect(svgGot.headers.get('content-type')).toBe('application/xml');
      expect(svgGot.headers.get('content-disposition')).toMatch(/^attachment;/);
    });

    it('a voice note must be audio; WebM recordings count', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      expectError(await upload(owner, cid, tinyPng, '?voice=true'), 400, 'bad_request', 'voice');
      const webm = pad(Buffer.from('1a45dfa3a34286810142f7810142f2810442f381084282847765626d', 'hex'), 1500);
      expect((await upload(owner, cid, webm, '?voice=true')).body).toMatchObject({ category: 'voice', mimeType: 'audio/webm' });
      // Without the flag, audio is audio (and the audio limit applies).
      expect((await upload(owner, cid, BYTES.voice(LIMITS.voice + 100))).body).toMatchObject({ category: 'audio' });
    });
  });

  describe('errors', () => {
    it('401, 403, 404, 400, 409 and 413 with their codes', async () => {
      const [owner, stranger] = [await t.user(), await t.user()];
      const publicRoom = await openRoom(owner, [], { public: true });
      const privateRoom = await openRoom(owner);
      const bytes = BYTES.attachment(100);
      expectError(await upload(undefined, publicRoom, bytes), 401, 'unauthenticated');
      expectError(await upload(stranger, publicRoom, bytes), 403, 'forbidden', 'conversationId');
      expectError(await upload(stranger, privateRoom, bytes), 404, 'not_found', 'conversationId');
      expectError(await upload(owner, 'cnv_nope', bytes), 404, 'not_found', 'conversationId');
      expectError(await upload(owner, publicRoom, Buffer.alloc(0)), 400, 'bad_request', 'body');
      expectError(await upload(owner, publicRoom, bytes, `?name=${'n'.repeat(300)}`), 400, 'bad_request', 'name');
      expectError(await upload(owner, publicRoom, bytes, '?voice=maybe'), 400, 'bad_request', 'voice');
      expectError(await upload(owner, publicRoom, BYTES.attachment(LIMITS.attachment + 1)), 413, 'limit_exceeded', 'body');
      expect((await owner.api.post(`/v1/conversations/${privateRoom}/deactivate`)).status).toBe(200);
      expectError(await upload(owner, privateRoom, bytes), 409, 'conflict', 'conversationId');
    });

    it('only owners upload to a read-only room', async () => {
      const [owner, member] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [member], { readOnly: true });
      expectError(await upload(member, cid, BYTES.attachment(10)), 403, 'forbidden');
      expect((await upload(owner, cid, BYTES.attachment(10))).status).toBe(201);
    });

    it('sending: only the uploader, only in its conversation, only once, at most the limit', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const other = await openRoom(owner, [bob]);
      const mine = await uploaded(owner, cid, BYTES.attachment(10));
      const elsewhere = await uploaded(owner, other, BYTES.attachment(10));
      const post = (u: TestUser, body: unknown) => u.api.post(`/v1/conversations/${cid}/messages`, body);
      expectError(await post(bob, { attachments: [mine.id] }), 403, 'forbidden', 'attachments[0]');
      expectError(await post(owner, { attachments: [elsewhere.id] }), 404, 'not_found', 'attachments[0]');
      expectError(await post(owner, { content: 'x', attachments: ['att_missing'] }), 404, 'not_found', 'attachments[0]');
      expectError(await post(owner, { attachments: [mine.id, mine.id] }), 400, 'bad_request', 'attachments');
      expectError(await post(owner, {}), 400, 'bad_request', 'content');
      const four = await Promise.all([1, 2, 3, 4].map(() => uploaded(owner, cid, BYTES.attachment(10))));
      expectError(await post(owner, { attachments: four.map((a) => a.id) }), 413, 'limit_exceeded', 'attachments');
      expectError(await post(owner, { type: 'share', share: { title: 'x', url: 'https://example.com' }, attachments: [mine.id] }), 400, 'bad_request');
      const key = { 'Idempotency-Key': `files-${mine.id}` };
      const first = await owner.api.post(`/v1/conversations/${cid}/messages`, { attachments: [mine.id] }, key);
      expect(first.status).toBe(201);
      // A retried send is the same message, not a conflict over the already-sent upload.
      const retried = await owner.api.post(`/v1/conversations/${cid}/messages`, { attachments: [mine.id] }, key);
      expect([retried.status, retried.headers.get('idempotent-replayed'), retried.body.id]).toEqual([201, 'true', first.body.id]);
      expectError(await post(owner, { attachments: [mine.id] }), 409, 'conflict', 'attachments[0]');
      // A refused send binds nothing: the uploads are still pending and sendable.
      const sent = await sendWith(owner, cid, four.slice(0, 3).map((a) => a.id), 'three files');
      expect(sent.attachments.map((a: any) => a.id)).toEqual(four.slice(0, 3).map((a) => a.id));
    });
  });

  describe('messages carry attachments', () => {
    it('a sent message carries each file with its description, also in history and events', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const image = await uploaded(owner, cid, await png(400, 300), '?name=sunset.png');
      const doc = await uploaded(owner, cid, Buffer.from('minutes of the meeting\n'), '?name=minutes.txt');
      const msg = await sendWith(owner, cid, [image.id, doc.id], 'Photos and notes');
      expect(msg.content).toBe('Photos and notes');
      expect(msg.attachments).toEqual([
        { ...image, messageId: msg.id },
        { ...doc, messageId: msg.id },
      ]);
      expect(msg.attachments[0]).toMatchObject({
        name: 'sunset.png',
        mimeType: 'image/png',
        category: 'image',
        width: 400,
        height: 300,
        url: `/v1/conversations/${cid}/attachments/${image.id}/content`,
        thumbnail: { url: `/v1/conversations/${cid}/attachments/${image.id}/thumbnail`, mimeType: 'image/webp', width: 320, height: 240 },
      });
      expect(msg.attachments[1]).toMatchObject({ name: 'minutes.txt', mimeType: 'text/plain', category: 'attachment', width: null, height: null, thumbnail: null });

      expect((await bob.api.get(`/v1/conversations/${cid}/messages/${msg.id}`)).body.attachments).toEqual(msg.attachments);
      expect((await bob.api.get(`/v1/conversations/${cid}/attachments/${image.id}`)).body).toEqual(msg.attachments[0]);
      const events = (await bob.api.get(`/v1/conversations/${cid}/events?after=0`)).body.items;
      const created = events.find((e: any) => e.type === 'message.created' && e.data.message.id === msg.id);
      expect(created.data.message.attachments).toEqual(msg.attachments);
    });

    it('a message may be attachments alone', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const a = await uploaded(owner, cid, BYTES.audio(500));
      const msg = await sendWith(owner, cid, [a.id]);
      expect(msg).toMatchObject({ type: 'text', content: '' });
      expect(msg.attachments).toHaveLength(1);
    });

    it('an HTML message may carry attachments too', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const a = await uploaded(owner, cid, BYTES.video(500));
      const res = await owner.api.post(`/v1/conversations/${cid}/messages`, { type: 'html', content: '<b>clip</b>', attachments: [a.id] });
      expect(res.status).toBe(201);
      expect(res.body.attachments[0]).toMatchObject({ id: a.id, category: 'video' });
    });

    it('deleting the message deletes its files: gone from the message, its events, downloads and the disk', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const a = await uploaded(owner, cid, await png(400, 300));
      const msg = await sendWith(owner, cid, [a.id], 'oops');
      expect(blobFiles()).toEqual(expect.arrayContaining([a.id, `${a.id}.thumb`]));
      expect((await owner.api.delete(`/v1/conversations/${cid}/messages/${msg.id}`)).status).toBe(204);
      expect((await bob.api.get(`/v1/conversations/${cid}/messages/${msg.id}`)).body.attachments).toEqual([]);
      const events = (await bob.api.get(`/v1/conversations/${cid}/events?after=0`)).body.items;
      expect(events.filter((e: any) => e.data.message?.id === msg.id).every((e: any) => e.data.message.attachments.length === 0)).toBe(true);
      expectError(await download(bob, `/v1/conversations/${cid}/attachments/${a.id}/content`), 404, 'not_found');
      expectError(await download(owner, `/v1/conversations/${cid}/attachments/${a.id}/thumbnail`), 404, 'not_found');
      expect(blobFiles().filter((f) => f.startsWith(a.id))).toEqual([]);
    });
  });

  describe('downloads', () => {
    let owner: TestUser;
    let bob: TestUser;
    let cid: string;
    let file: Buffer;
    let a: any;
    beforeAll(async () => {
      [owner, bob] = [await t.user(), await t.user()];
      cid = await openRoom(owner, [bob], { public: true });
      file = pad(tinyPng, 2000);
      for (let i = tinyPng.length; i < file.length; i++) file[i] = i % 251;
      a = await uploaded(owner, cid, file, `?name=${encodeURIComponent('Grüße "2026".png')}`);
      await sendWith(owner, cid, [a.id]);
    });
    const contentPath = () => `/v1/conversations/${cid}/attachments/${a.id}/content`;

    it('whole file: type, length, ETag, disposition and nosniff', async () => {
      const res = await download(bob, contentPath());
      expect(res.status).toBe(200);
      expect(res.bytes.equals(file)).toBe(true);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('content-length')).toBe(String(file.length));
      expect(res.headers.get('etag')).toBe(`"${createHash('sha256').update(file).digest('hex')}"`);
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-disposition')).toBe(`inline; filename="Gr__e _2026_.png"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%222026%22.png`);
    });

    it('ranges: first bytes, suffix, open-ended, clamped, and unsatisfiable (416)', async () => {
      const r1 = await download(bob, contentPath(), { range: 'bytes=0-9' });
      expect(r1.status).toBe(206);
      expect(r1.headers.get('content-range')).toBe(`bytes 0-9/${file.length}`);
      expect(r1.headers.get('content-length')).toBe('10');
      expect(r1.bytes.equals(file.subarray(0, 10))).toBe(true);

      const suffix = await download(bob, contentPath(), { range: 'bytes=-5' });
      expect(suffix.status).toBe(206);
      expect(suffix.headers.get('content-range')).toBe(`bytes ${file.length - 5}-${file.length - 1}/${file.length}`);
      expect(suffix.bytes.equals(file.subarray(file.length - 5))).toBe(true);

      const open = await download(bob, contentPath(), { range: 'bytes=1990-' });
      expect(open.status).toBe(206);
      expect(open.headers.get('content-range')).toBe(`bytes 1990-1999/${file.length}`);
      expect(open.bytes.equals(file.subarray(1990))).toBe(true);

      const clamped = await download(bob, contentPath(), { range: 'bytes=1995-5000' });
      expect(clamped.headers.get('content-range')).toBe(`bytes 1995-1999/${file.length}`);
      expect(clamped.bytes.equals(file.subarray(1995))).toBe(true);

      const bad = await download(bob, contentPath(), { range: `bytes=${file.length}-` });
      expectError(bad, 416, 'range_not_satisfiable', 'range');
      expect(bad.headers.get('content-range')).toBe(`bytes */${file.length}`);

      // Malformed or multiple ranges are ignored: the whole file.
      for (const range of ['bytes=5-2', 'items=0-1', 'bytes=0-1,4-5']) {
        const whole = await download(bob, contentPath(), { range });
        expect(whole.status, range).toBe(200);
        expect(whole.bytes.equals(file)).toBe(true);
      }
      // If-Range with a stale ETag: the whole file, not a piece of a different one.
      const stale = await download(bob, contentPath(), { range: 'bytes=0-9', 'if-range': '"other"' });
      expect(stale.status).toBe(200);
      const fresh = await download(bob, contentPath(), { range: 'bytes=0-9', 'if-range': `"${a.sha256}"` });
      expect(fresh.status).toBe(206);
    });

    it('If-None-Match answers 304; HEAD answers the headers only', async () => {
      const res = await download(bob, contentPath(), { 'if-none-match': `"${a.sha256}"` });
      expect(res.status).toBe(304);
      expect(res.bytes.length).toBe(0);
      const head = await fetch(t.url + contentPath(), { method: 'HEAD', headers: { authorization: `Bearer ${bob.token}` } });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(file.length));
      expect(head.headers.get('content-type')).toBe('image/png');
    });

    it('who may download: members (403 for a stranger to a public room, 404 to a private one, 401 without credentials)', async () => {
      const stranger = await t.user();
      expectError(await download(stranger, contentPath()), 403, 'forbidden', 'conversationId');
      expectError(await download(stranger, `/v1/conversations/${cid}/attachments/${a.id}`), 403, 'forbidden');
      expectError(await download(stranger, `/v1/conversations/${cid}/attachments/${a.id}/thumbnail`), 403, 'forbidden');
      expectError(await download(undefined, contentPath()), 401, 'unauthenticated');
      const privateRoom = await openRoom(owner, [bob]);
      const p = await uploaded(owner, privateRoom, BYTES.attachment(10));
      await sendWith(owner, privateRoom, [p.id]);
      expectError(await download(stranger, `/v1/conversations/${privateRoom}/attachments/${p.id}/content`), 404, 'not_found');
      // An attachment is only reachable through its own conversation.
      expectError(await download(bob, `/v1/conversations/${cid}/attachments/${p.id}/content`), 404, 'not_found', 'attachmentId');
      expectError(await download(bob, `/v1/conversations/${cid}/attachments/att_nope/content`), 404, 'not_found', 'attachmentId');
    });

    it('a pending upload is its uploader\'s alone until sent', async () => {
      const pending = await uploaded(owner, cid, BYTES.attachment(50));
      expect((await download(owner, `/v1/conversations/${cid}/attachments/${pending.id}/content`)).status).toBe(200);
      expectError(await download(bob, `/v1/conversations/${cid}/attachments/${pending.id}/content`), 404, 'not_found');
      expectError(await download(bob, `/v1/conversations/${cid}/attachments/${pending.id}`), 404, 'not_found');
      await sendWith(owner, cid, [pending.id]);
      expect((await download(bob, `/v1/conversations/${cid}/attachments/${pending.id}/content`)).status).toBe(200);
    });

    it('a member who may not see the message may not download its files', async () => {
      const late = await t.user();
      const hidden = await openRoom(owner, [], { historyVisibleToNewMembers: false });
      const early = await uploaded(owner, hidden, BYTES.attachment(20));
      await sendWith(owner, hidden, [early.id]);
      expect((await owner.api.post(`/v1/conversations/${hidden}/members`, { members: [late.user.id] })).status).toBe(200);
      const later = await uploaded(owner, hidden, BYTES.attachment(30));
      await sendWith(owner, hidden, [later.id]);
      expectError(await download(late, `/v1/conversations/${hidden}/attachments/${early.id}/content`), 404, 'not_found', 'attachmentId');
      expect((await download(late, `/v1/conversations/${hidden}/attachments/${later.id}/content`)).status).toBe(200);
    });
  });

  describe('images', () => {
    it('PNG: dimensions and a WebP thumbnail within 320×320, downloadable with ranges', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const a = await uploaded(owner, cid, await png(200, 400));
      expect(a).toMatchObject({ width: 200, height: 400, thumbnail: { mimeType: 'image/webp', width: 160, height: 320 } });
      const thumb = await download(owner, a.thumbnail.url);
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/webp');
      expect(thumb.headers.get('content-length')).toBe(String(a.thumbnail.size));
      expect(thumb.headers.get('x-content-type-options')).toBe('nosniff');
      const meta = await sharp(thumb.bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 160, 320]);
      const part = await download(owner, a.thumbnail.url, { range: 'bytes=0-3' });
      expect(part.status).toBe(206);
      expect(part.bytes.toString('latin1')).toBe('RIFF');
    });

    it('JPEG: dimensions as displayed (EXIF orientation applied); small images are not enlarged', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer();
      const a = await uploaded(owner, cid, jpeg, '?name=photo.jpg');
      expect(a).toMatchObject({ mimeType: 'image/jpeg', category: 'image', width: 48, height: 64, thumbnail: { width: 48, height: 64 } });
      const meta = await sharp((await download(owner, a.thumbnail.url)).bytes).metadata();
      expect([meta.width, meta.height]).toEqual([48, 64]);
    });

    it('an image over maxImagePixels is kept, with the dimensions of its header, but never decoded for a thumbnail', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const a = await uploaded(owner, cid, await png(500, 500)); // 250,000 pixels > 200,000
      expect(a).toMatchObject({ category: 'image', width: 500, height: 500, thumbnail: null });
      expectError(await download(owner, `/v1/conversations/${cid}/attachments/${a.id}/thumbnail`), 404, 'not_found');
    });

    it('a file with an image signature that does not decode is an image without dimensions', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const broken = pad(tinyPng.subarray(0, 40), 400);
      expect(await uploaded(owner, cid, broken)).toMatchObject({ category: 'image', width: null, height: null, thumbnail: null });
    });
  });

  describe('clean-up', () => {
    it('unsent uploads are swept after the TTL; sent ones stay', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const pending = await uploaded(owner, cid, await png(100, 100));
      const sent = await uploaded(owner, cid, BYTES.attachment(10));
      await sendWith(owner, cid, [sent.id]);
      const sweep = (now: number) => t.server.services.attachments.sweep(now);

      expect(await sweep(Date.now())).toBe(0);
      expect((await download(owner, pending.url)).status).toBe(200);

      expect(await sweep(Date.now() + TTL_SECONDS * 1000 + 1000)).toBeGreaterThanOrEqual(1);
      expectError(await download(owner, pending.url), 404, 'not_found');
      expect(blobFiles().filter((f) => f.startsWith(pending.id))).toEqual([]);
      expectError(await owner.api.post(`/v1/conversations/${cid}/messages`, { attachments: [pending.id] }), 404, 'not_found', 'attachments[0]');
      expect((await download(owner, sent.url)).status).toBe(200);
    });

    it('the uploader can delete a pending upload; a sent one goes with its message (409)', async () => {
      const [owner, bob] = [await t.user(), await t.user()];
      const cid = await openRoom(owner, [bob]);
      const pending = await uploaded(owner, cid, BYTES.attachment(10));
      const path = `/v1/conversations/${cid}/attachments/${pending.id}`;
      expectError(await bob.api.delete(path), 404, 'not_found');
      expect((await owner.api.delete(path)).status).toBe(204);
      expectError(await owner.api.get(path), 404, 'not_found');
      expect(blobFiles().filter((f) => f.startsWith(pending.id))).toEqual([]);
      const sent = await uploaded(owner, cid, BYTES.attachment(10));
      await sendWith(owner, cid, [sent.id]);
      expectError(await owner.api.delete(`/v1/conversations/${cid}/attachments/${sent.id}`), 409, 'conflict');
    });

    it('files of a deleted conversation are swept', async () => {
      const owner = await t.user();
      const cid = await openRoom(owner);
      const a = await uploaded(owner, cid, BYTES.attachment(10));
      await sendWith(owner, cid, [a.id]);
      expect((await owner.api.delete(`/v1/conversations/${cid}`)).status).toBe(204);
      await t.server.services.attachments.sweep(Date.now());
      expect(blobFiles().filter((f) => f.startsWith(a.id))).toEqual([]);
    });
  });
});
