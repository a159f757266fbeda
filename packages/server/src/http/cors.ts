import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Which browser origins may call the API: every one (`*`), a list, or none (no CORS headers at all). */
export type CorsOrigins = '*' | readonly string[];

// What a browser client sends beyond the CORS-safelisted headers, and what it may read of an answer.
const ALLOW_HEADERS = 'authorization, content-type, idempotency-key, repeatability-request-id, x-request-id, range, if-range, if-none-match';
const EXPOSE_HEADERS = 'x-request-id, retry-after, etag, content-range, content-disposition, location';
const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * Answers CORS for the allowed origins: preflights (OPTIONS with Access-Control-Request-Method) get 204
 * before any route or credential check, and every answer to an allowed origin carries
 * Access-Control-Allow-Origin. Credentials are bearer tokens, never cookies, so no Allow-Credentials.
 */
export function registerCors(app: FastifyInstance, origins: CorsOrigins): void {
  const allowed = (origin: string): boolean => origins === '*' || origins.includes(origin);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (origin === undefined || !allowed(origin)) return;
    void reply.header('access-control-allow-origin', origins === '*' ? '*' : origin);
    if (origins !== '*') void reply.header('vary', 'origin');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      await reply
        .code(204)
        .header('access-control-allow-methods', ALLOW_METHODS)
        .header('access-control-allow-headers', ALLOW_HEADERS)
        .header('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS)
        .send();
      return reply;
    }
    void reply.header('access-control-expose-headers', EXPOSE_HEADERS);
  });
}
