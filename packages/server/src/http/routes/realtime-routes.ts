import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ConversationParamsSchema,
  ListMembersQuerySchema,
  MarkReadRequestSchema,
  ReadReceiptSchema,
  ReceiptPageSchema,
  SendSignalRequestSchema,
  SignalResultSchema,
  TypingResultSchema,
} from '@parley/protocol';
import type { ConversationId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { errorResponses } from '../route-helpers.js';

export function realtimeRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { realtime } = services;
  const cid = (p: { conversationId: string }) => p.conversationId as ConversationId;

  app.post(
    '/v1/conversations/:conversationId/typing',
    {
      schema: {
        tags: ['realtime'],
        summary: 'Tell the other members you are typing (never stored; throttled per member)',
        params: ConversationParamsSchema,
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 202: TypingResultSchema, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    async (request, reply) => reply.status(202).send(await realtime.typing(request.auth.actor, cid(request.params))),
  );
  app.post(
    '/v1/conversations/:conversationId/read',
    {
      schema: {
        tags: ['realtime'],
        summary: 'Mark read up to a message (the newest when none is named); positions only move forward',
        params: ConversationParamsSchema,
        body: MarkReadRequestSchema,
        response: { 200: ReadReceiptSchema, ...errorResponses('forbidden', 'not_found') },
      },
    },
    (request) => realtime.markRead(request.auth.actor, cid(request.params), request.body),
  );
  app.get(
    '/v1/conversations/:conversationId/receipts',
    {
      schema: {
        tags: ['realtime'],
        summary: 'Read receipts: how far each member has read (skip/limit or cursor)',
        params: ConversationParamsSchema,
        querystring: ListMembersQuerySchema,
        response: { 200: ReceiptPageSchema, ...errorResponses('forbidden', 'not_found', 'limit_exceeded') },
      },
    },
    (request) => realtime.listReceipts(request.auth.actor, cid(request.params), request.query),
  );
  app.post(
    '/v1/conversations/:conversationId/signals',
    {
      schema: {
        tags: ['realtime'],
        summary: 'Send a small JSON status to one member alone (e.g. a bot), live and on resume',
        params: ConversationParamsSchema,
        body: SendSignalRequestSchema,
        response: { 201: SignalResultSchema, ...errorResponses('forbidden', 'not_found', 'conflict', 'limit_exceeded', 'rate_limited') },
      },
    },
    async (request, reply) => reply.status(201).send(await realtime.signal(request.auth.actor, cid(request.params), request.body)),
  );
}
