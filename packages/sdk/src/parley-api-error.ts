import type { ErrorCode, ErrorDetail } from '@parley/protocol';

/**
 * What went wrong: one of the server's stable {@link ErrorCode}s, or `network_error` when no answer
 * came back (connection refused or dropped, timeout).
 */
export type ParleyApiErrorCode = ErrorCode | 'network_error';

/** The fields of a {@link ParleyApiError}. */
export interface ParleyApiErrorInit {
  /** The error code. */
  code: ParleyApiErrorCode;
  /** The HTTP status (0 when no answer came back). */
  status: number;
  /** A human-readable message. */
  message: string;
  /** The field, parameter or resource the error is about. */
  target?: string;
  /** Individual problems, e.g. one per failed participant of a bulk add. */
  details?: ErrorDetail[];
  /** The `x-request-id` of the failed request, to quote when asking an operator. */
  requestId?: string;
  /** How long the server asked to wait before retrying (from `Retry-After`), in milliseconds. */
  retryAfterMs?: number;
  /** The underlying error (for network errors). */
  cause?: unknown;
}

/**
 * The one error every SDK call throws for a failed request: the server's standard error body
 * `{"error":{"code","message","target","details"}}` plus the HTTP status and the request id.
 *
 * @example
 * ```ts
 * try {
 *   await client.getConversation('cnv_missing');
 * } catch (err) {
 *   if (isParleyApiError(err) && err.code === 'not_found') console.log('no such conversation');
 *   else throw err;
 * }
 * ```
 */
export class ParleyApiError extends Error {
  override readonly name = 'ParleyApiError';
  /** The error code; switch on it rather than on the message. */
  readonly code: ParleyApiErrorCode;
  /** The HTTP status (0 when no answer came back). */
  readonly status: number;
  /** The field, parameter or resource the error is about. */
  readonly target: string | undefined;
  /** Individual problems, e.g. one per failed participant of a bulk add. */
  readonly details: ErrorDetail[] | undefined;
  /** The `x-request-id` of the failed request. */
  readonly requestId: string | undefined;
  /** How long the server asked to wait before retrying, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  /** Builds an error from its fields (the SDK does this; applications rarely need to). */
  constructor(init: ParleyApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.target = init.target;
    this.details = init.details;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * True for a {@link ParleyApiError}, also across copies of the SDK (checks the name as well as the
 * prototype, like Azure's `isRestError`).
 */
export function isParleyApiError(value: unknown): value is ParleyApiError {
  return (
    value instanceof ParleyApiError ||
    (value instanceof Error && value.name === 'ParleyApiError' && 'code' in value && 'status' in value)
  );
}
