import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { IssueTokenRequestSchema, LoginRequestSchema, MeSchema, TokenResultSchema } from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/index.js';
import { errorResponses } from '../route-helpers.js';

export function authRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/v1/auth/login',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with handle and password (humans); returns an access token',
        security: [],
        body: LoginRequestSchema,
        response: { 200: TokenResultSchema, ...errorResponses('forbidden') },
      },
    },
    (request) => services.identity.login(request.body),
  );
  app.post(
    '/v1/auth/token',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['auth'],
        summary: 'Exchange the API key in Authorization for a short-lived access token',
        body: Type.Optional(IssueTokenRequestSchema),
        response: { 200: TokenResultSchema, ...errorResponses('forbidden') },
      },
    },
    (request) => services.identity.exchangeApiKey(request.auth, request.body ?? {}),
  );
  app.get(
    '/v1/me',
    {
      config: { auth: 'any' },
      schema: { tags: ['auth'], summary: 'The caller and its credential\'s scopes', response: { 200: MeSchema, ...errorResponses() } },
    },
    (request) => services.identity.me(request.auth),
  );
}
