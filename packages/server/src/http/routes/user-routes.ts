import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ApiKeyListSchema,
  ApiKeyParamsSchema,
  CreateApiKeyRequestSchema,
  CreateApiKeyResultSchema,
  CreateUserRequestSchema,
  CreateUserResultSchema,
  IssueTokenRequestSchema,
  ListUsersQuerySchema,
  TokenResultSchema,
  UpdateUserRequestSchema,
  UserPageSchema,
  UserParamsSchema,
  UserSchema,
} from '@parley/protocol';
import type { ApiKeyId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { errorResponses, resolveUserId } from '../route-helpers.js';

const tags = ['users'];
const NoContent = Type.Null({ description: 'No content' });

export function userRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { identity } = services;

  app.get(
    '/v1/users',
    {
      schema: {
        tags,
        summary: 'List users (the directory), filtered by kind, handle or disabled; skip/limit or cursor paging',
        querystring: ListUsersQuerySchema,
        response: { 200: UserPageSchema, ...errorResponses('forbidden', 'limit_exceeded') },
      },
    },
    (request) => identity.listUsers(request.auth.actor, request.query),
  );
  app.post(
    '/v1/users',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Admin: create a human or bot (a bot\'s first API key is returned once)',
        body: CreateUserRequestSchema,
        response: { 201: CreateUserResultSchema, ...errorResponses('forbidden', 'conflict') },
      },
    },
    async (request, reply) => reply.status(201).send(await identity.createUser(request.auth.actor, request.body)),
  );
  app.get(
    '/v1/users/:userId',
    {
      schema: {
        tags,
        summary: 'Get a user (`me` for the caller)',
        params: UserParamsSchema,
        response: { 200: UserSchema, ...errorResponses('not_found') },
      },
    },
    (request) => identity.getUser(request.auth.actor, resolveUserId(request, request.params.userId)),
  );
  app.patch(
    '/v1/users/:userId',
    {
      // Users edit their own profile too: the service decides what each caller may change.
      config: { auth: 'any' },
      schema: {
        tags,
        summary: 'Update a user. Admins: anything. Anyone, for itself (`me`): display name, description and, for a bot, its commands',
        params: UserParamsSchema,
        body: UpdateUserRequestSchema,
        response: { 200: UserSchema, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    (request) => identity.updateUser(request.auth.actor, resolveUserId(request, request.params.userId), request.body),
  );
  app.delete(
    '/v1/users/:userId',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Admin: delete a user (removed from every conversation; its messages stay)',
        params: UserParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    async (request, reply) => {
      await services.deleteUser(request.auth.actor, resolveUserId(request, request.params.userId));
      return reply.status(204).send(null);
    },
  );
  app.post(
    '/v1/users/:userId/tokens',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Admin: issue an access token for a user, with scopes and expiry',
        params: UserParamsSchema,
        body: Type.Optional(IssueTokenRequestSchema),
        response: { 201: TokenResultSchema, ...errorResponses('forbidden', 'not_found') },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await identity.issueToken(request.auth.actor, resolveUserId(request, request.params.userId), request.body ?? {})),
  );
  app.delete(
    '/v1/users/:userId/tokens',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Admin: revoke every access token issued to the user so far',
        params: UserParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found') },
      },
    },
    async (request, reply) => {
      await identity.revokeTokens(request.auth.actor, resolveUserId(request, request.params.userId));
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/v1/users/:userId/api-keys',
    {
      config: { auth: 'any' },
      schema: {
        tags,
        summary: 'List a user\'s API keys (own keys, or any as admin)',
        params: UserParamsSchema,
        response: { 200: ApiKeyListSchema, ...errorResponses('forbidden', 'not_found') },
      },
    },
    async (request) => ({ items: await identity.listApiKeys(request.auth.actor, resolveUserId(request, request.params.userId)) }),
  );
  app.post(
    '/v1/users/:userId/api-keys',
    {
      config: { auth: 'any' },
      schema: {
        tags,
        summary: 'Make an API key (shown once, stored hashed)',
        params: UserParamsSchema,
        body: Type.Optional(CreateApiKeyRequestSchema),
        response: { 201: CreateApiKeyResultSchema, ...errorResponses('forbidden', 'not_found') },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await identity.createApiKey(request.auth.actor, resolveUserId(request, request.params.userId), request.body ?? {})),
  );
  app.post(
    '/v1/users/:userId/api-keys/:keyId/rotate',
    {
      config: { auth: 'any' },
      schema: {
        tags,
        summary: 'Rotate an API key: a new key with the same name (shown once); the old one stops working at once',
        params: ApiKeyParamsSchema,
        response: { 201: CreateApiKeyResultSchema, ...errorResponses('forbidden', 'not_found') },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await identity.rotateApiKey(request.auth.actor, resolveUserId(request, request.params.userId), request.params.keyId as ApiKeyId)),
  );
  app.delete(
    '/v1/users/:userId/api-keys/:keyId',
    {
      config: { auth: 'any' },
      schema: {
        tags,
        summary: 'Revoke an API key',
        params: ApiKeyParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found') },
      },
    },
    async (request, reply) => {
      await identity.deleteApiKey(request.auth.actor, resolveUserId(request, request.params.userId), request.params.keyId as ApiKeyId);
      return reply.status(204).send(null);
    },
  );
}
