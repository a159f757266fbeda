import type { FastifyReply, FastifyRequest } from 'fastify';
import { ParleyError, type ErrorCode } from '@parley/protocol';
import { HTTP_STATUS, toParleyError } from '../error-handler.js';
import type { AcsErrorBody } from './acs-schemas.js';

/** ACS error codes for Parley's: the SDK surfaces them as `RestError.code`. */
const ACS_CODES: Record<ErrorCode, string> = {
  bad_request: 'BadRequest',
  unauthenticated: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'NotFound',
  conflict: 'Conflict',
  limit_exceeded: 'LimitExceeded',
  range_not_satisfiable: 'RangeNotSatisfiable',

  rate_limited: 'TooManyRequests',
  internal: 'InternalError',
};

/** The ACS code for a Parley error code (unknown ones pass through). */
export function acsCode(code: string): string {
  return (ACS_CODES as Record<string, string | undefined>)[code] ?? code;
}

/** The ACS error object of a Parley error; `innererror.code` keeps Parley's own code for clients of both APIs. */
export function acsError(err: ParleyError): AcsErrorBody['error'] {
  const error: AcsErrorBody['error'] = { code: ACS_CODES[err.code], message: err.message, innererror: { code: err.code } };
  if (err.target !== undefined) error.target = err.target;
  if (err.details !== undefined) error.details = err.details;
  return error;
}

/** Thrown for an ACS feature Parley cannot offer: 501, which the SDKs do not retry. */
export class AcsNotImplemented extends Error {
  override readonly name = 'AcsNotImplemented';
}

/**
 * Same statuses as the Parley API (one mapping, HTTP_STATUS), ACS body. Never a `WWW-Authenticate`
 * header: with claims in it the SDK would re-request a token and retry instead of failing.
 */
export function sendAcsError(reply: FastifyReply, err: ParleyError | AcsNotImplemented): FastifyReply {
  if (err instanceof AcsNotImplemented) {
    return reply.status(501).send({ error: { code: 'NotImplemented', message: err.message } } satisfies AcsErrorBody);
  }
  if ('retryAfterMs' in err && typeof err.retryAfterMs === 'number') {
    void reply.header('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
  }
  return reply.status(HTTP_STATUS[err.code]).type('application/json; charset=utf-8').send(JSON.stringify({ error: acsError(err) }));
}

export function acsErrorHandler(this: unknown, err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof AcsNotImplemented) return sendAcsError(reply, err);
  const mapped = toParleyError(err);
  if (mapped.code === 'internal') request.log.error({ err }, 'unhandled error');
  return sendAcsError(reply, mapped);
}

export const unauthorized = (message: string): ParleyError => new ParleyError('unauthenticated', message, 'authorization');
