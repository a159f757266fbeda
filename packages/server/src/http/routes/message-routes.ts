import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ConversationParamsSchema,
  EditMessageRequestSchema,
  ListMessagesQuerySchema,
  MessagePageSchema,
  MessageParamsSchema,
  MessageSchema,
  SendMessageRequestSchema,
} from '@parley/protocol';
import type { ConversationId, MessageId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { IDEMPOTENCY_HEADERS, errorResponses, idempotencyHeader } from '../route-helpers.js';

const tags = ['messages'];
const NoContent = Type.Null({ description: 'No content' });

export function messageRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { messages } = services;
  const cid = (p: { conversationId: string }) => p.conversationId as ConversationId;
  const mid = (p: { messageId: string }) => p.messageId as MessageId;

  app.post(
    '/v1/conversations/:conversationId/messages',
    {
      schema: {
        tags,
        summary: 'Send a text, HTML (sanitised) or share message',
        description: 'A retried send with the same idempotency key returns the first message (header `Idempotent-Replayed: true`).',
        params: ConversationParamsSchema,
        headers: IDEMPOTENCY_HEADERS,
        body: SendMessageRequestSchema,
        response: { 201: MessageSchema, ...errorResponses('forbidden', 'not_found', 'conflict', 'limit_exceeded') },
      },
    },
    async (request, reply) => {
      const result = await messages.send(request.auth.actor, cid(request.params), request.body, idempotencyHeader(request));
      if (result.replayed) void reply.header('Idempotent-Replayed', 'true');
      return reply.status(201).send(result.message);
    },
  );
  app.get(
    '/v1/conversations/:conversationId/messages',
    {
      schema: {
        tags,
        summary: 'List messages: newest first (or `order=asc`), by seq range or start time, paged',
        params: ConversationParamsSchema,
        querystring: ListMessagesQuerySchema,
        response: { 200: MessagePageSchema, ...errorResponses('forbidden', 'not_found', 'limit_exceeded') },
      },
    },
    (request) => messages.list(request.auth.actor, cid(request.params), request.query),
  );
  app.get(
    '/v1/conversations/:conversationId/messages/:messageId',
    {
      schema: {
        tags,
        summary: 'Get one message',
        params: MessageParamsSchema,
        response: { 200: MessageSchema, ...errorResponses('forbidden', 'not_found') },
      },
    },
    (request) => messages.get(request.auth.actor, cid(request.params), mid(request.params)),
  );
  app.patch(
    '/v1/conversations/:conversationId/messages/:messageId',
    {
      schema: {
        tags,
        summary: 'Edit a message (author only): content and/or metadata; the version goes up',
        params: MessageParamsSchema,
        body: EditMessageRequestSchema,
        response: { 200: MessageSchema, ...errorResponses('forbidden', 'not_found', 'conflict', 'limit_exceeded') },
      },
    },
    (request) => messages.edit(request.auth.actor, cid(request.params), mid(request.params), request.body),
  );
  app.delete(
    '/v1/conversations/:conversationId/messages/:messageId',
    {
      schema: {
        tags,
        summary: 'Delete a message (author, owner or admin); a tombstone keeps its seq',
        params: MessageParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    async (request, reply) => {
      await messages.delete(request.auth.actor, cid(request.params), mid(request.params));
      return reply.status(204).send(null);
    },
  );
}
