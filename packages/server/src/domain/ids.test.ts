import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ID_PREFIXES, newId, newSecret } from './ids.js';

const KINDS = Object.keys(ID_PREFIXES) as (keyof typeof ID_PREFIXES)[];
// Crockford base32 in lower case: no i, l, o or u.
const BODY = /^[0-9a-hjkmnp-tv-z]{26}$/;
const T0 = Date.UTC(2025, 0, 1);

describe('newId', () => {
  it('uses the documented prefixes', () => {
    expect(ID_PREFIXES).toEqual({ user: 'usr', conversation: 'cnv', message: 'msg', event: 'evt', apiKey: 'key', attachment: 'att', group: 'grp', audit: 'aud', delivery: 'dlv' });
  });

  describe.each(KINDS)('%s ids', (kind) => {
    const prefix = ID_PREFIXES[kind];

    it(`start with "${prefix}_" and carry 26 Crockford base32 characters`, () => {
      const id = newId(kind, T0);
      expect(id.startsWith(`${prefix}_`)).toBe(true);
      expect(id).toHaveLength(prefix.length + 1 + 26);
      expect(id.slice(prefix.length + 1)).toMatch(BODY);
    });

    it('are URL-safe as they are', () => {
      const id = newId(kind);
      expect(encodeURIComponent(id)).toBe(id);
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    });

    it('are unique over many made in the same millisecond', () => {
      const ids = new Set(Array.from({ length: 10_000 }, () => newId(kind, T0)));
      expect(ids.size).toBe(10_000);
    });
  });

  it('defaults the time to now', () => {
    const id = newId('message');
    expect(id).toMatch(/^msg_[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it('encodes the same millisecond as the same 10-character time part', () => {
    const a = newId('message', T0);
    const b = newId('message', T0);
    expect(a.slice(4, 14)).toBe(b.slice(4, 14));
    expect(a.slice(14)).not.toBe(b.slice(14));
  });

  it('sorts as strings in the order of increasing times (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.constantFrom(...KINDS),
        (t, dt, kind) => {
          const earlier = newId(kind, t);
          const later = newId(kind, t + dt);
          expect(earlier < later).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('sorts a sequence made at increasing times in creation order', () => {
    const ids = Array.from({ length: 500 }, (_, i) => newId('event', T0 + i * 37));
    expect([...ids].sort()).toEqual(ids);
  });

  // BUG (reported): encodeTime indexes the alphabet with `ms % 32`, so a non-integer time (an injected
  // `clock` such as `performance.timeOrigin + performance.now()`) yields ids containing "undefined".
  it('makes a well-formed id from a fractional millisecond time', () => {
    const id = newId('message', T0 + 0.5);
    expect(id).toMatch(/^msg_[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it('sorts across a carry in the time digits', () => {
    // 32^3 - 1 → 32^3 carries into a new digit of the base32 time part.
    const before = newId('message', 32 ** 3 - 1);
    const after = newId('message', 32 ** 3);
    expect(before < after).toBe(true);
  });
});

describe('newSecret', () => {
  it('prefixes a base64url encoding of 32 random bytes by default', () => {
    const s = newSecret('pk');
    expect(s).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(s.slice(3), 'base64url')).toHaveLength(32);
  });

  it.each([1, 16, 24, 48])('honours a byte count of %i', (bytes) => {
    const s = newSecret('tok', bytes);
    expect(s.startsWith('tok_')).toBe(true);
    expect(Buffer.from(s.slice(4), 'base64url')).toHaveLength(bytes);
    expect(s.slice(4)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('is URL-safe and unique over many', () => {
    const secrets = Array.from({ length: 5_000 }, () => newSecret('pk'));
    expect(new Set(secrets).size).toBe(secrets.length);
    for (const s of secrets) expect(encodeURIComponent(s)).toBe(s);
  });
});
