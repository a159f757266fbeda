import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ConversationPageSchema,
  ConversationParamsSchema,
  ConversationSchema,
  CreateConversationRequestSchema,
  CreateConversationResultSchema,
  ListConversationsQuerySchema,
  MemberSchema,
  UpdateConversationRequestSchema,
} from '@parley/protocol';
import type { ConversationId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { IDEMPOTENCY_HEADERS, errorResponses, idempotencyHeader } from '../route-helpers.js';

const tags = ['conversations'];
const NoContent = Type.Null({ description: 'No content' });

export function conversationRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { conversations } = services;
  const id = (p: { conversationId: string }) => p.conversationId as ConversationId;

  app.post(
    '/v1/conversations',
    {
      schema: {
        tags,
        summary: 'Create a direct, group or room conversation, with members and an optional first message',
        description:
          'Opening a direct conversation again, or a group with the same member set, returns the existing one (200, `created: false`). ' +
          'An idempotency key (header `Repeatability-Request-Id` or field `idempotencyKey`) makes retries return the first result.',
        headers: IDEMPOTENCY_HEADERS,
        body: CreateConversationRequestSchema,
        response: {
          200: CreateConversationResultSchema,
          201: CreateConversationResultSchema,
          ...errorResponses('forbidden', 'not_found', 'conflict', 'limit_exceeded'),
        },
      },
    },
    async (request, reply) => {
      const result = await conversations.create(request.auth.actor, request.body, idempotencyHeader(request));
      return reply.status(result.created ? 201 : 200).send(result);
    },
  );
  app.get(
    '/v1/conversations',
    {
      schema: {
        tags,
        summary: 'List my conversations: filter by kind, active, updatedSince or exact title; skip/limit or cursor paging',
        querystring: ListConversationsQuerySchema,
        response: { 200: ConversationPageSchema, ...errorResponses('limit_exceeded') },
      },
    },
    (request) => conversations.list(request.auth.actor, request.query),
  );
  app.get(
    '/v1/conversations/:conversationId',
    {
      schema: {
        tags,
        summary: 'Get a conversation (members, admins, or anyone for a public room)',
        params: ConversationParamsSchema,
        response: { 200: ConversationSchema, ...errorResponses('not_found') },
      },
    },
    (request) => conversations.get(request.auth.actor, id(request.params)),
  );
  app.patch(
    '/v1/conversations/:conversationId',
    {
      schema: {
        tags,
        summary: 'Update attributes (rooms: owners only); only the fields sent change',
        params: ConversationParamsSchema,
        body: UpdateConversationRequestSchema,
        response: { 200: ConversationSchema, ...errorResponses('forbidden', 'not_found', 'conflict', 'limit_exceeded') },
      },
    },
    (request) => conversations.update(request.auth.actor, id(request.params), request.body),
  );
  app.delete(
    '/v1/conversations/:conversationId',
    {
      schema: {
        tags,
        summary: 'Delete a conversation (owner or admin)',
        params: ConversationParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found') },
      },
    },
    async (request, reply) => {
      await conversations.delete(request.auth.actor, id(request.params));
      return reply.status(204).send(null);
    },
  );
  for (const [action, active] of [
    ['deactivate', false],
    ['reactivate', true],
  ] as const) {
    app.post(
      `/v1/conversations/:conversationId/${action}`,
      {
        schema: {
          tags,
          summary: active
            ? 'Reactivate a room (owner or admin)'
            : 'Deactivate a room: history stays readable, no new messages or members (owner or admin)',
          params: ConversationParamsSchema,
          response: { 200: ConversationSchema, ...errorResponses('forbidden', 'not_found', 'conflict') },
        },
      },
      (request) => conversations.setActive(request.auth.actor, id(request.params), active),
    );
  }
  app.post(
    '/v1/conversations/:conversationId/join',
    {
      schema: {
        tags: ['members'],
        summary: 'Join a public room',
        params: ConversationParamsSchema,
        response: { 200: MemberSchema, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    (request) => services.members.join(request.auth.actor, id(request.params)),
  );
  app.post(
    '/v1/conversations/:conversationId/leave',
    {
      schema: {
        tags: ['members'],
        summary: 'Leave a group or room (a room\'s last owner must promote someone first)',
        params: ConversationParamsSchema,
        response: { 204: NoContent, ...errorResponses('not_found', 'conflict') },
      },
    },
    async (request, reply) => {
      await services.members.leave(request.auth.actor, id(request.params));
      return reply.status(204).send(null);
    },
  );
}
