import type { FastifyRequest } from 'fastify';
import { ErrorBodySchema, ParleyError, type ErrorCode } from '@parley/protocol';
import type { UserId } from '../domain/index.js';
import { HTTP_STATUS } from './error-handler.js';

/** Error responses for the OpenAPI document: every route can answer these with the standard body. */
export function errorResponses(...codes: ErrorCode[]): Record<number, typeof ErrorBodySchema> {
  const all: ErrorCode[] = ['bad_request', 'unauthenticated', ...codes];
  return Object.fromEntries(all.map((c) => [HTTP_STATUS[c], ErrorBodySchema]));
}

/** `me` in a user path means the caller. */
export function resolveUserId(request: FastifyRequest, userId: string): UserId {
  return (userId === 'me' ? request.auth.actor.id : userId) as UserId;
}

/** The idempotency key of a create, from `Repeatability-Request-Id` (ACS) or `Idempotency-Key`. */
export function idempotencyHeader(request: FastifyRequest): string | undefined {
  const raw = request.headers['repeatability-request-id'] ?? request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.length === 0 || value.length > 200) {
    throw new ParleyError('bad_request', 'The idempotency key must be 1 to 200 characters', 'Repeatability-Request-Id');
  }
  return value;
}

export const IDEMPOTENCY_HEADERS = {
  type: 'object',
  properties: {
    'repeatability-request-id': { type: 'string', description: 'Idempotency key: a retried create returns the first result' },
    'idempotency-key': { type: 'string', description: 'Same as Repeatability-Request-Id' },
  },
} as const;

