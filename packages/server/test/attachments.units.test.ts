import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '@parley/protocol';
import { parseRange } from '../src/http/byte-range.js';
import { categorize, detectType, isInlineSafe, largestSizeLimit, sizeLimit } from '../src/services/attachment-media.js';

// The pure parts of attachments: Range parsing, type detection and categories.

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=10-', 100, { start: 10, end: 99 }],
    ['bytes=-5', 100, { start: 95, end: 99 }],
    ['bytes=-500', 100, { start: 0, end: 99 }],
    ['bytes=90-500', 100, { start: 90, end: 99 }],
    ['bytes=99-99', 100, { start: 99, end: 99 }],
    [' bytes=1-2 ', 100, { start: 1, end: 2 }],
  ])('%s of %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it.each([
    ['bytes=100-', 100],
    ['bytes=100-200', 100],
    ['bytes=-0', 100],
    ['bytes=0-', 0],
  ])('%s of %i bytes is unsatisfiable', (header, size) => {
    expect(parseRange(header, size)).toBe('unsatisfiable');
  });

  it.each([undefined, '', 'bytes=', 'bytes=-', 'bytes=5-2', 'items=0-1', 'bytes=0-1,3-4', 'bytes=a-b', 'bytes=0x1-2'])(
    '%j is ignored (the whole file)',
    (header) => {
      expect(parseRange(header, 100)).toBeUndefined();
    },
  );
});

describe('detectType', () => {
  it('knows signatures, plain text and binary', async () => {
    expect(await detectType(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), true)).toEqual({ mimeType: 'image/png', ext: 'png' });
    expect(await detectType(Buffer.from('héllo wörld\r\n\tübung\n'), true)).toEqual({ mimeType: 'text/plain', ext: 'txt' });
    expect(await detectType(Buffer.from('<html><script>x</script></html>'), true)).toEqual({ mimeType: 'text/plain', ext: 'txt' });
    expect(await detectType(Buffer.from([0x68, 0x69, 0x00, 0x68]), true)).toEqual({ mimeType: 'application/octet-stream', ext: 'bin' });
    expect(await detectType(Buffer.from([0x41, 0xc3, 0x28, 0x41]), true)).toEqual({ mimeType: 'application/octet-stream', ext: 'bin' });
  });

  it('a sample cut inside a UTF-8 character is still text, unless it is the whole file', async () => {
    const cut = Buffer.from('abcé').subarray(0, 4); // "abc" and half of "é"
    expect((await detectType(cut, false)).mimeType).toBe('text/plain');
    expect((await detectType(cut, true)).mimeType).toBe('application/octet-stream');
  });
});

describe('categorize', () => {
  it.each([
    ['image/png', false, 'image', 'image/png'],
    ['image/svg+xml', false, 'image', 'image/svg+xml'],
    ['video/mp4', false, 'video', 'video/mp4'],
    ['audio/mpeg', false, 'audio', 'audio/mpeg'],
    ['application/pdf', false, 'attachment', 'application/pdf'],
    ['text/plain', false, 'attachment', 'text/plain'],
    ['audio/ogg; codecs=opus', true, 'voice', 'audio/ogg; codecs=opus'],
    ['video/webm', true, 'voice', 'audio/webm'],
    ['video/mp4', true, 'voice', 'audio/mp4'],
  ] as const)('%s (voice: %s) → %s', (mime, voice, category, recorded) => {
    expect(categorize(mime, voice)).toEqual({ category, mimeType: recorded });
  });

  it.each(['image/png', 'application/pdf', 'video/quicktime', 'text/plain'])('%s is not a voice note', (mime) => {
    expect(() => categorize(mime, true)).toThrow(expect.objectContaining({ code: 'bad_request', target: 'voice' }));
  });

  it('each category has its limit; the largest bounds a body of unknown type', () => {
    const limits = { ...DEFAULT_LIMITS, maxAttachmentBytes: 1, maxImageBytes: 2, maxVideoBytes: 3, maxAudioBytes: 4, maxVoiceBytes: 5 };
    expect((['attachment', 'image', 'video', 'audio', 'voice'] as const).map((c) => sizeLimit(limits, c))).toEqual([1, 2, 3, 4, 5]);
    expect(largestSizeLimit(limits)).toBe(5);
  });
});

describe('isInlineSafe', () => {
  it.each(['image/png', 'image/jpeg', 'image/webp', 'video/mp4', 'audio/mpeg', 'audio/ogg; codecs=opus'])('%s renders in place', (m) => {
    expect(isInlineSafe(m)).toBe(true);
  });
  it.each(['text/html', 'image/svg+xml', 'application/xml', 'text/plain', 'application/javascript', 'application/pdf', 'application/octet-stream'])(
    '%s is a download',
    (m) => {
      expect(isInlineSafe(m)).toBe(false);
    },
  );
});
