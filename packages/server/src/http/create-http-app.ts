import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Limits } from '@parley/protocol';
import type { Services } from '../services/index.js';
import { registerAuth } from './auth.js';
import { registerCors, type CorsOrigins } from './cors.js';
import { errorHandler, sendError, toParleyError } from './error-handler.js';
import { createValidatorCompiler } from './validator-compiler.js';
import { ParleyError } from '@parley/protocol';
import { systemRoutes } from './routes/system-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { conversationRoutes } from './routes/conversation-routes.js';
import { memberRoutes } from './routes/member-routes.js';
import { groupRoutes } from './routes/group-routes.js';
import { webhookRoutes } from './routes/webhook-routes.js';
import { messageRoutes } from './routes/message-routes.js';
import { attachmentRoutes } from './routes/attachment-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { realtimeRoutes } from './routes/realtime-routes.js';
import { searchRoutes } from './routes/search-routes.js';
import { adminRoutes } from './routes/admin-routes.js';
import { acsRoutes } from './acs/index.js';

export interface HttpAppOptions {
  services: Services;
  limits: Limits;
  logLevel: string;
  version: string;
  /** The ACS identity API's access key (base64). */
  acsAccessKey: string;
  /** Serve HTTPS (and so WSS) with this PEM certificate and key. */
  tls?: { cert: Buffer; key: Buffer };
  /** Browser origins allowed to call the API (CORS); none when unset. */
  corsOrigins?: CorsOrigins;
}

/** The path of the first string (or key) holding U+0000 in a parsed input, '' for the input itself. */
function nulPath(value: unknown): string | undefined {
  // Iterative: a deeply nested JSON body must not overflow the stack.
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path;
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push([x, `${path}[${i}]`]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const p = path === '' ? k : `${path}.${k}`;
        if (k.includes('\u0000')) return p;
        stack.push([x, p]);
      }
    }
  }
  return undefined;
}

let generatedIds = 0;

/** The caller's request id when it is a short token (it goes into logs as it is), else a generated one. */
function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  if (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,100}$/.test(given)) return given;
  generatedIds += 1;
  return `req-${generatedIds.toString(36)}`;
}

/** The Fastify application: validation from the protocol schemas, auth, one error shape, OpenAPI. */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  // With TLS, Fastify makes an https.Server: the same request API, so the app is typed as the plain one.
  const app = Fastify({
    ...(options.tls ? { https: options.tls } : {}),
    logger: { level: options.logLevel },
    // Per-request lines only when debugging: at chat volumes they would dominate the log and the CPU.
    logController: new LogController({ disableRequestLogging: options.logLevel !== 'debug' && options.logLevel !== 'trace' }),
    bodyLimit: options.limits.maxBodyBytes,
    // A client's `x-request-id` (the SDK sends one per attempt) names the request in the log and comes back
    // in the answer, so an error a client reports can be found in the log. Anything else gets a fresh id.
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Ids are opaque and bounded; anything longer is refused before routing.
    routerOptions: { maxParamLength: 200 },
    // Malformed URLs (bad percent-encoding) are refused before routing: answer them in the standard shape too.
    frameworkErrors: (error, _request, reply) => {
      void sendError(
        reply,
        error.code === 'FST_ERR_BAD_URL' ? new ParleyError('bad_request', 'The URL is not validly percent-encoded', 'url') : toParleyError(error),
      );
    },
  });

  // An empty body with a JSON content type (DELETE from many HTTP clients) is no body, not bad JSON.
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) {
      done(null, undefined);
      return;
    }
    defaultJson(request, body as string, done);
  });

  // No body at all is an empty object: optional-body endpoints then work without one, and required
  // fields get a precise "missing field" error instead of "body must be object".
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) request.body = {};
  });

  if (options.corsOrigins !== undefined) registerCors(app, options.corsOrigins);
  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(errorHandler);
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  // PostgreSQL text cannot hold U+0000: refuse it in any input, so every store answers alike (400, not 500).
  app.addHook('preValidation', async (request) => {
    for (const [part, value] of [['params', request.params], ['query', request.query], ['body', request.body]] as const) {
      const path = nulPath(value);
      if (path !== undefined) throw new ParleyError('bad_request', 'Text must not contain the NUL character (U+0000)', path || part);
    }
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new ParleyError('not_found', `No such endpoint: ${request.method} ${request.url.split('?')[0] ?? ''}`)));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley API',
        version: options.version,
        description:
          'Self-hosted chat for people and bots. Errors always have the body `{"error":{"code","message","target","details"}}`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) or an API key' },
          acsAccessKey: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'ACS identity API: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…` with the ACS access key (docs/acs.md)',
          },
        },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'system', description: 'Health, limits' },
        { name: 'auth', description: 'Signing in and tokens' },
        { name: 'users', description: 'Accounts, tokens and API keys' },
        { name: 'conversations', description: 'Direct, group and room conversations' },
        { name: 'members', description: 'Membership and roles' },
        { name: 'groups', description: 'Groups of users (circles and lists) to add to conversations at once' },
        { name: 'webhooks', description: 'Bots\' outgoing webhooks: signed, retried, dead-lettered deliveries (docs/bots.md)' },
        { name: 'messages', description: 'Messages' },
        { name: 'attachments', description: 'Files: upload, send with a message, download (docs/attachments.md)' },
        { name: 'events', description: 'The per-conversation event log' },
        { name: 'realtime', description: 'Typing, read receipts and signals (the WebSocket stream is described in docs/realtime.md)' },
        { name: 'search', description: 'Room and message search (docs/search.md)' },
        { name: 'admin', description: 'Enterprise-wide conversation listing and the audit log (docs/admin.md)' },
        {
          name: 'acs',
          description:
            'Azure Communication Services compatibility (docs/acs.md): the official ACS Chat and Identity SDKs work unmodified. ACS wire shapes and error body `{"error":{"code","message"}}` with ACS codes.',
        },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });

  // Everything under this scope authenticates first; /docs stays outside it, public.
  await app.register(async (scope) => {
    registerAuth(scope, options.services.identity);
    scope.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, () => app.swagger());
    systemRoutes(scope, options);
    authRoutes(scope, options.services);
    userRoutes(scope, options.services);
    conversationRoutes(scope, options.services);
    memberRoutes(scope, options.services);
    groupRoutes(scope, options.services);
    webhookRoutes(scope, options.services);
    messageRoutes(scope, options.services);
    attachmentRoutes(scope, options.services);
    eventRoutes(scope, options.services);
    realtimeRoutes(scope, options.services);
    searchRoutes(scope, options.services);
    adminRoutes(scope, options.services);
  });
  // A scope of its own: ACS body parsing (raw body for HMAC, merge-patch), ACS error shape and auth.
  await app.register(acsRoutes, { services: options.services, accessKey: options.acsAccessKey });
  return app;
}
