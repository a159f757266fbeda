import { ERROR_CODES, ParleyError, type ErrorCode } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS, toParleyError } from '../src/http/error-handler.js';

/** A Fastify schema-validation failure, as Fastify hands it to the error handler. */
function validationError(context: string, ...validation: Record<string, unknown>[]): Error {
  return Object.assign(new Error('body/x must be string'), { statusCode: 400, code: 'FST_ERR_VALIDATION', validation, validationContext: context });
}

describe('HTTP_STATUS', () => {
  const EXPECTED: Record<ErrorCode, number> = {
    bad_request: 400,
    unauthenticated: 401,
    forbidden: 403,
    not_found: 404,
    conflict: 409,
    limit_exceeded: 413,
    range_not_satisfiable: 416,
    rate_limited: 429,
    internal: 500,
  };

  it('covers every error code exactly once, and nothing else', () => {
    const keys = Object.keys(HTTP_STATUS);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual([...ERROR_CODES].sort());
  });

  it.each(ERROR_CODES.map((code) => [code, EXPECTED[code]] as const))('maps %s to %i', (code, status) => {
    expect(HTTP_STATUS[code]).toBe(status);
  });

  it('gives each code its own status', () => {
    expect(new Set(Object.values(HTTP_STATUS)).size).toBe(ERROR_CODES.length);
  });
});

describe('toParleyError', () => {
  it.each(ERROR_CODES)('passes a ParleyError with code %s through as is', (code) => {
    const err = new ParleyError(code, 'as thrown', 'target', [{ code: 'x', message: 'y' }]);
    expect(toParleyError(err)).toBe(err);
  });

  it('passes through a ParleyError from another module copy (same name, has a code)', () => {
    const foreign = Object.assign(new Error('from a copy'), { name: 'ParleyError', code: 'conflict' });
    expect(toParleyError(foreign)).toBe(foreign);
  });

  describe('validation failures → bad_request with the field path as target', () => {
    it('turns an instance path into a dotted path with indexes', () => {
      const err = toParleyError(
        validationError('body', { instancePath: '/members/0/userId', keyword: 'type', message: 'must be string', params: {} }),
      );
      expect(err).toBeInstanceOf(ParleyError);
      expect(err.code).toBe('bad_request');
      expect(err.target).toBe('members[0].userId');
      expect(err.message).toContain('members[0].userId');
      expect(err.message).toContain('must be string');
    });

    it.each([
      ['/title', 'title'],
      ['/members/12', 'members[12]'],
      ['/message/metadata/k', 'message.metadata.k'],
      ['/a/0/b/1/c', 'a[0].b[1].c'],
    ])('maps %s to %s', (instancePath, target) => {
      expect(toParleyError(validationError('body', { instancePath, keyword: 'type', message: 'must be string', params: {} })).target).toBe(
        target,
      );
    });

    it('names a missing property as the target and in the message', () => {
      const err = toParleyError(
        validationError('body', { instancePath: '', keyword: 'required', message: "must have required property 'content'", params: { missingProperty: 'content' } }),
      );
      expect(err.code).toBe('bad_request');
      expect(err.target).toBe('content');
      expect(err.message).toContain('content');
      expect(err.message).toMatch(/missing/i);
    });

    it('appends a nested missing property to its parent path', () => {
      const err = toParleyError(
        validationError('body', { instancePath: '/members/1', keyword: 'required', message: 'x', params: { missingProperty: 'userId' } }),
      );
      expect(err.target).toBe('members[1].userId');
    });

    it('reports an additional property as an unknown field', () => {
      const err = toParleyError(
        validationError('body', {
          instancePath: '',
          keyword: 'additionalProperties',
          message: 'must NOT have additional properties',
          params: { additionalProperty: 'colour' },
        }),
      );
      expect(err.code).toBe('bad_request');
      expect(err.target).toBe('colour');
      expect(err.message).toContain('Unknown field');
      expect(err.message).toContain('colour');
    });

    it('says "query parameter" and "path parameter" outside the body', () => {
      const query = toParleyError(
        validationError('querystring', { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'foo' } }),
      );
      expect(query.message).toContain('Unknown query parameter');
      const path = toParleyError(validationError('params', { instancePath: '/id', keyword: 'pattern', message: 'must match', params: {} }));
      expect(path.message).toContain('path parameter');
      expect(path.target).toBe('id');
    });

    it('lists the allowed values of an enum', () => {
      const err = toParleyError(
        validationError('body', {
          instancePath: '/kind',
          keyword: 'enum',
          message: 'must be equal to one of the allowed values',
          params: { allowedValues: ['direct', 'group', 'room'] },
        }),
      );
      expect(err.code).toBe('bad_request');
      expect(err.target).toBe('kind');
      for (const v of ['direct', 'group', 'room']) expect(err.message).toContain(v);
    });

    it('falls back to the context when there is no path', () => {
      expect(toParleyError(validationError('body', { instancePath: '', keyword: 'type', message: 'must be object', params: {} })).target).toBe(
        'body',
      );
      expect(toParleyError(validationError('querystring', { keyword: 'type', message: 'x', params: {} })).target).toBe('querystring');
    });

    it('picks the most specific (deepest) complaint of several', () => {
      const err = toParleyError(
        validationError(
          'body',
          { instancePath: '/members', keyword: 'anyOf', message: 'must match a schema in anyOf', params: {} },
          { instancePath: '/members/0/role', keyword: 'enum', message: 'x', params: { allowedValues: ['owner', 'member'] } },
          { instancePath: '/members/0', keyword: 'type', message: 'must be string', params: {} },
        ),
      );
      expect(err.target).toBe('members[0].role');
      expect(err.message).toContain('owner, member');
    });
  });

  describe('errors carrying an HTTP status', () => {
    it('maps 413 to limit_exceeded on the body', () => {
      const err = toParleyError(Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }));
      expect(err).toMatchObject({ code: 'limit_exceeded', target: 'body' });
    });

    it.each([
      [404, 'not_found'],
      [429, 'rate_limited'],
      [401, 'unauthenticated'],
      [400, 'bad_request'],
      [415, 'bad_request'],
      [500, 'internal'],
      [503, 'internal'],
    ] as const)('maps status %i to %s', (statusCode, code) => {
      expect(toParleyError(Object.assign(new Error('boom'), { statusCode })).code).toBe(code);
    });

    it('does not leak the message of a 5xx', () => {
      const err = toParleyError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { statusCode: 503 }));
      expect(err.message).toBe('Internal server error');
    });
  });

  // BUG (reported): the handler reads `err.validation` before checking that `err` is an object, so
  // `throw null` / `Promise.reject(undefined)` make toParleyError itself throw a TypeError.
  it.each([
    ['undefined', undefined],
    ['null', null],
  ])('maps a thrown %s to internal instead of throwing', (_what, thrown) => {
    expect(toParleyError(thrown)).toMatchObject({ code: 'internal', message: 'Internal server error' });
  });

  describe('anything else → internal, never the original message', () => {
    it.each([
      ['a plain Error', new Error('SQLITE_CONSTRAINT: UNIQUE failed: users.handle (secret detail)')],
      ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
      ['a string', 'raw string thrown'],
      ['a number', 42],
      ['a plain object', { message: 'object message', stack: 'at secret.ts:1' }],
      ['an empty validation list', Object.assign(new Error('odd'), { validation: [] })],
    ])('%s', (_what, thrown) => {
      const err = toParleyError(thrown);
      expect(err).toBeInstanceOf(ParleyError);
      expect(err.code).toBe('internal');
      expect(err.message).toBe('Internal server error');
      expect(err.target).toBeUndefined();
      expect(JSON.stringify(err.toBody())).toBe('{"error":{"code":"internal","message":"Internal server error"}}');
    });
  });
});
