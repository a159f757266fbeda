import { DEFAULT_LIMITS, ParleyError, type Limits } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { checkLength, checkMessageContent, checkMetadata, pageSize } from './limits.js';

const LIMITS: Limits = { ...DEFAULT_LIMITS, maxMetadataEntries: 3, maxMetadataBytes: 12, maxMessageLength: 10 };

/** Runs `fn` and returns what it threw (failing the test when it did not throw). */
function thrownBy(fn: () => unknown): ParleyError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ParleyError);
    return err as ParleyError;
  }
  throw new Error('expected a ParleyError, nothing was thrown');
}

describe('checkMetadata', () => {
  it('accepts no metadata and an empty map', () => {
    expect(() => checkMetadata(LIMITS, undefined)).not.toThrow();
    expect(() => checkMetadata(LIMITS, {})).not.toThrow();
  });

  it('accepts exactly the maximum number of entries', () => {
    expect(() => checkMetadata(LIMITS, { a: '', b: '', c: '' })).not.toThrow();
  });

  it('refuses one entry over the maximum with limit_exceeded on "metadata"', () => {
    const err = thrownBy(() => checkMetadata(LIMITS, { a: '', b: '', c: '', d: '' }));
    expect(err).toMatchObject({ code: 'limit_exceeded', target: 'metadata' });
    expect(err.message).toContain('3');
  });

  it('accepts exactly the maximum number of bytes, keys and values together', () => {
    expect(() => checkMetadata(LIMITS, { abc: 'def', gh: 'ijkl' })).not.toThrow(); // 3+3+2+4 = 12
  });

  it('refuses one byte over the maximum', () => {
    const err = thrownBy(() => checkMetadata(LIMITS, { abc: 'def', gh: 'ijklm' })); // 13
    expect(err).toMatchObject({ code: 'limit_exceeded', target: 'metadata' });
    expect(err.message).toContain('12');
  });

  it.each([
    { name: '2-byte é', char: 'é', bytes: 2 },
    { name: '3-byte €', char: '€', bytes: 3 },
    { name: '4-byte 😀 (2 UTF-16 units)', char: '😀', bytes: 4 },
  ])('counts UTF-8 bytes, not characters: $name', ({ char, bytes }) => {
    const n = Math.floor(LIMITS.maxMetadataBytes / bytes);
    const pad = LIMITS.maxMetadataBytes - n * bytes;
    expect(() => checkMetadata(LIMITS, { [char.repeat(n)]: 'x'.repeat(pad) })).not.toThrow();
    expect(thrownBy(() => checkMetadata(LIMITS, { [char.repeat(n)]: 'x'.repeat(pad + 1) })).code).toBe('limit_exceeded');
    // Seven characters are well under 12 characters but over 12 bytes.
    expect(thrownBy(() => checkMetadata(LIMITS, { v: char.repeat(7) })).code).toBe('limit_exceeded');
  });

  it('reports the target it is given', () => {
    expect(thrownBy(() => checkMetadata(LIMITS, { a: '', b: '', c: '', d: '' }, 'message.metadata')).target).toBe(
      'message.metadata',
    );
    expect(thrownBy(() => checkMetadata(LIMITS, { k: 'x'.repeat(20) }, 'conversation.metadata')).target).toBe(
      'conversation.metadata',
    );
  });

  it('checks the entry count before the size', () => {
    const err = thrownBy(() => checkMetadata(LIMITS, { a: 'x'.repeat(50), b: '', c: '', d: '' }));
    expect(err.message).toMatch(/entries/);
  });
});

describe('checkLength', () => {
  it('accepts null, undefined, empty and exactly the maximum', () => {
    for (const value of [null, undefined, '', 'x'.repeat(5)]) expect(() => checkLength(5, value, 'title')).not.toThrow();
  });

  it('refuses one character over, naming the target and the maximum', () => {
    const err = thrownBy(() => checkLength(5, 'x'.repeat(6), 'title'));
    expect(err).toMatchObject({ code: 'limit_exceeded', target: 'title' });
    expect(err.message).toContain('title');
    expect(err.message).toContain('5');
  });

  it('measures in UTF-16 code units (a 😀 counts as two)', () => {
    expect(() => checkLength(4, '😀😀', 'description')).not.toThrow();
    expect(thrownBy(() => checkLength(3, '😀😀', 'description')).code).toBe('limit_exceeded');
  });
});

describe('checkMessageContent', () => {
  it.each(['', ' ', '   ', '\n', '\t \r\n', '\u00a0', '\u2003'])('refuses blank content %j with bad_request', (content) => {
    expect(thrownBy(() => checkMessageContent(LIMITS, content))).toMatchObject({ code: 'bad_request', target: 'content' });
  });

  it('accepts content up to exactly the maximum length', () => {
    expect(() => checkMessageContent(LIMITS, 'x')).not.toThrow();
    expect(() => checkMessageContent(LIMITS, 'x'.repeat(LIMITS.maxMessageLength))).not.toThrow();
  });

  it('refuses content one over the maximum with limit_exceeded', () => {
    const err = thrownBy(() => checkMessageContent(LIMITS, 'x'.repeat(LIMITS.maxMessageLength + 1)));
    expect(err).toMatchObject({ code: 'limit_exceeded', target: 'content' });
  });

  it('counts surrounding whitespace towards the length', () => {
    expect(thrownBy(() => checkMessageContent(LIMITS, ` ${'x'.repeat(LIMITS.maxMessageLength)}`)).code).toBe(
      'limit_exceeded',
    );
  });

  it('reports the target it is given', () => {
    expect(thrownBy(() => checkMessageContent(LIMITS, ' ', 'message.content')).target).toBe('message.content');
    expect(thrownBy(() => checkMessageContent(LIMITS, 'x'.repeat(11), 'message.content')).target).toBe('message.content');
  });
});

describe('pageSize', () => {
  it('uses the default when none is asked for', () => {
    expect(pageSize(undefined, 50, 200)).toBe(50);
  });

  it('bounds the default by the maximum', () => {
    expect(pageSize(undefined, 500, 200)).toBe(200);
    expect(pageSize(undefined, 200, 200)).toBe(200);
  });

  it('returns the requested size up to and including the maximum', () => {
    expect(pageSize(1, 50, 200)).toBe(1);
    expect(pageSize(120, 50, 200)).toBe(120);
    expect(pageSize(200, 50, 200)).toBe(200);
  });

  it('refuses a size over the maximum with limit_exceeded on "limit"', () => {
    const err = thrownBy(() => pageSize(201, 50, 200));
    expect(err).toMatchObject({ code: 'limit_exceeded', target: 'limit' });
    expect(err.message).toContain('200');
  });

  it('reports the target it is given', () => {
    expect(thrownBy(() => pageSize(1001, 100, 1000, 'maxPageSize')).target).toBe('maxPageSize');
  });
});
