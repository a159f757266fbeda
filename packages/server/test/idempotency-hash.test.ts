import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestHash } from '../src/services/idempotency.js';

/** A deep clone whose every object lists its keys in the order `order` picks. */
function reorder(value: unknown, order: (keys: string[]) => string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => reorder(v, order));
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of order(Object.keys(source))) out[k] = reorder(source[k], order);
    return out;
  }
  return value;
}

/** JSON-like request bodies, with some undefined fields as an object spread (`{ ...req, key: undefined }`) makes. */
const body = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 5 }),
})).object;

describe('requestHash', () => {
  it('is a base64url SHA-256', () => {
    expect(requestHash({ a: 1 })).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is deterministic', () => {
    const req = { kind: 'room', title: 'T', members: ['usr_a', { userId: 'usr_b', role: 'owner' }] };
    expect(requestHash(req)).toBe(requestHash(structuredClone(req)));
  });

  it('does not depend on key order, at any depth', () => {
    expect(requestHash({ a: 1, b: 2 })).toBe(requestHash({ b: 2, a: 1 }));
    expect(requestHash({ x: { a: 1, b: [{ c: 1, d: 2 }] } })).toBe(requestHash({ x: { b: [{ d: 2, c: 1 }], a: 1 } }));
  });

  it('ignores undefined fields', () => {
    expect(requestHash({ content: 'hi', idempotencyKey: undefined })).toBe(requestHash({ content: 'hi' }));
    expect(requestHash({ a: { b: undefined, c: 1 } })).toBe(requestHash({ a: { c: 1 } }));
  });

  it.each([
    ['a different value', { content: 'hi' }, { content: 'ho' }],
    ['a different type', { n: 1 }, { n: '1' }],
    ['null vs a missing field', { a: null }, {}],
    ['null vs false', { a: null }, { a: false }],
    ['a different key', { a: 1 }, { b: 1 }],
    ['an extra field', { a: 1 }, { a: 1, b: 2 }],
    ['array order', { m: ['a', 'b'] }, { m: ['b', 'a'] }],
    ['an array vs an object', { m: ['a'] }, { m: { 0: 'a' } }],
    ['nested values', { a: { b: 1 } }, { a: { b: 2 } }],
    ['a value that looks like an encoding', { a: '1,"b":2' }, { a: 1, b: 2 }],
    ['empty string vs missing', { title: '' }, {}],
    ['an empty array vs an empty object', { a: [] }, { a: {} }],
  ])('differs for %s', (_what, a, b) => {
    expect(requestHash(a)).not.toBe(requestHash(b));
  });

  it('hash(obj) === hash(clone with shuffled key order) (property)', () => {
    fc.assert(
      fc.property(body, fc.integer(), (obj, seed) => {
        // A deterministic shuffle per seed: sort by a keyed pseudo-random rank.
        const rank = (k: string): number => {
          let h = seed | 0;
          for (const ch of k) h = Math.imul(h ^ ch.charCodeAt(0), 0x5bd1e995) >>> 0;
          return h;
        };
        const shuffled = reorder(obj, (keys) => [...keys].sort((x, y) => rank(x) - rank(y)));
        const reversed = reorder(obj, (keys) => [...keys].reverse());
        expect(requestHash(shuffled)).toBe(requestHash(obj));
        expect(requestHash(reversed)).toBe(requestHash(obj));
      }),
      { numRuns: 1000 },
    );
  });

  it('hash(obj) === hash(obj with its undefined fields dropped) (property)', () => {
    fc.assert(
      fc.property(body, (obj) => {
        const dropped = JSON.parse(JSON.stringify(obj)) as unknown;
        expect(requestHash(dropped)).toBe(requestHash(obj));
      }),
      { numRuns: 1000 },
    );
  });

  it('differs when one field changes (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.string(), { minKeys: 1, maxKeys: 5 }),
        fc.string(),
        (obj, replacement) => {
          const key = Object.keys(obj)[0]!;
          fc.pre(obj[key] !== replacement);
          expect(requestHash({ ...obj, [key]: replacement })).not.toBe(requestHash(obj));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
