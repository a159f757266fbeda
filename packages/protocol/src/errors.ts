import { StringEnum } from './common.js';
import { Type, type Static } from '@sinclair/typebox';

/**
 * The closed set of error codes Parley answers with. Stable: clients may switch on them.
 * The HTTP status for each lives in exactly one place on the server (its error handler).
 */
export const ERROR_CODES = [
  'bad_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'limit_exceeded',
  'range_not_satisfiable',
  'rate_limited',
  'internal',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Error codes a client may retry after a pause (honouring `Retry-After` when present). */
export const RETRYABLE_CODES: readonly ErrorCode[] = ['rate_limited', 'internal'];

/** One problem inside an error, e.g. one failed participant of a bulk add. */
export const ErrorDetailSchema = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    target: Type.Optional(Type.String()),
  },
  { title: 'ErrorDetail' },
);
export type ErrorDetail = Static<typeof ErrorDetailSchema>;

/**
 * The one error body every endpoint answers with: `{"error":{"code","message","target","details"}}`
 * (the ACS `ChatError` shape).
 */
export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: StringEnum(ERROR_CODES),
      message: Type.String(),
      target: Type.Optional(Type.String({ description: 'The field, parameter or resource the error is about.' })),
      details: Type.Optional(Type.Array(ErrorDetailSchema)),
    }),
  },
  { title: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

/**
 * The error the server's services throw. The server maps `code` to an HTTP status once; nothing else
 * in the server chooses a status.
 *
 * @example
 * ```ts
 * throw new ParleyError('forbidden', 'Only owners can update a room', 'conversationId');
 * ```
 */
export class ParleyError extends Error {
  override readonly name = 'ParleyError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly target?: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
  }

  /** The wire form of this error. */
  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.target !== undefined) error.target = this.target;
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

/** True for a {@link ParleyError}, also across module copies (checks the name as well as the prototype). */
export function isParleyError(value: unknown): value is ParleyError {
  return value instanceof ParleyError || (value instanceof Error && value.name === 'ParleyError' && 'code' in value);
}
