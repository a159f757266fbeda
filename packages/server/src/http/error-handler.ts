import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ParleyError, isParleyError, type ErrorBody, type ErrorCode } from '@parley/protocol';

/** The only place that knows which HTTP status each error code has. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
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

interface AjvError {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** `/members/0/userId` in the body → `members[0].userId`. */
function fieldPath(context: string | undefined, error: AjvError): string {
  const parts = (error.instancePath ?? '').split('/').filter(Boolean);
  const missing = error.params?.['missingProperty'];
  const extra = error.params?.['additionalProperty'];
  if (typeof missing === 'string') parts.push(missing);
  if (typeof extra === 'string') parts.push(extra);
  let path = '';
  for (const p of parts) path += /^\d+$/.test(p) ? `[${p}]` : path === '' ? p : `.${p}`;
  return path || (context === 'body' ? 'body' : (context ?? 'request'));
}

function describe(context: string | undefined, error: AjvError): string {
  const where = context === 'querystring' ? 'query parameter' : context === 'params' ? 'path parameter' : 'field';
  const extra = error.params?.['additionalProperty'];
  if (typeof extra === 'string') return `Unknown ${where} "${extra}"`;
  const path = fieldPath(context, error);
  if (error.keyword === 'required') return `Missing required ${where} "${path}"`;
  const allowed = error.params?.['allowedValues'];
  if (error.keyword === 'enum' && Array.isArray(allowed)) return `Invalid ${where} "${path}": must be one of ${allowed.join(', ')}`;
  return `Invalid ${where} "${path}": ${error.message ?? 'invalid value'}`;
}

/** Maps anything thrown to the standard error body. Never leaks internals in a 5xx. */
export function toParleyError(err: unknown): ParleyError {
  if (isParleyError(err)) return err;
  if (typeof err !== 'object' || err === null) return new ParleyError('internal', 'Internal server error');
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(fe.validation) && fe.validation.length > 0) {
    // anyOf failures list every branch's complaint; the most specific one is the deepest path.
    const best = [...fe.validation].sort((a, b) => (b.instancePath ?? '').length - (a.instancePath ?? '').length)[0]!;
    return new ParleyError('bad_request', describe(fe.validationContext, best), fieldPath(fe.validationContext, best));
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413) return new ParleyError('limit_exceeded', 'The request body is too large', 'body');
  if (status === 404) return new ParleyError('not_found', 'No such endpoint');
  if (status === 429) return new ParleyError('rate_limited', 'Too many requests');
  if (status === 401) return new ParleyError('unauthenticated', fe.message);
  if (status >= 400 && status < 500) return new ParleyError('bad_request', fe.message || 'Bad request', 'body');
  return new ParleyError('internal', 'Internal server error');
}

export function sendError(reply: FastifyReply, err: ParleyError): FastifyReply {
  const body: ErrorBody = err.toBody();
  if ('retryAfterMs' in err && typeof err.retryAfterMs === 'number') {
    void reply.header('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
  }
  return reply.status(HTTP_STATUS[err.code]).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

export function errorHandler(this: unknown, err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = toParleyError(err);
  if (mapped.code === 'internal') request.log.error({ err }, 'unhandled error');
  return sendError(reply, mapped);
}
