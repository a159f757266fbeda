import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Limits } from '@parley/protocol';
import type { Services } from '../services/index.js';
import { registerAuth } from './auth.js';
import { errorHandler, sendError, toParleyError } from './error-handler.js';
import { createValidatorCompiler } from './validator-compiler.js';
import { ParleyError } from '@parley/protocol';
import { systemRoutes } from './routes/system-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { conversationRoutes } from './routes/conversation-routes.js';
import { memberRoutes } from './routes/member-routes.js';
import { messageRoutes } from './routes/message-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { realtimeRoutes } from './routes/realtime-routes.js';

export interface HttpAppOptions {
  services: Services;
  limits: Limits;
  logLevel: string;
  version: string;
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

/** The Fastify application: validation from the protocol schemas, auth, one error shape, OpenAPI. */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: options.logLevel },
    // Per-request lines only when debugging: at chat volumes they would dominate the log and the CPU.
    logController: new LogController({ disableRequestLogging: options.logLevel !== 'debug' && options.logLevel !== 'trace' }),
    bodyLimit: options.limits.maxBodyBytes,
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

  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(errorHandler);
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
        },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'system', description: 'Health, limits' },
        { name: 'auth', description: 'Signing in and tokens' },
        { name: 'users', description: 'Accounts, tokens and API keys' },
        { name: 'conversations', description: 'Direct, group and room conversations' },
        { name: 'members', description: 'Membership and roles' },
        { name: 'messages', description: 'Messages' },
        { name: 'events', description: 'The per-conversation event log' },
        { name: 'realtime', description: 'Typing, read receipts and signals (the WebSocket stream is described in docs/realtime.md)' },
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
    messageRoutes(scope, options.services);
    eventRoutes(scope, options.services);
    realtimeRoutes(scope, options.services);
  });
  return app;
}
