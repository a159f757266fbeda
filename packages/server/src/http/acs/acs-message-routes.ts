import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ParleyError, type SendMessageRequest } from '@parley/protocol';
import type { MessageId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { threadIdOf } from './acs-ids.js';
import { acsMessage, acsPage, acsReadReceipt, pageQuery, skipQuery } from './acs-render.js';
import {
  AcsMessagePageSchema,
  AcsMessageParamsSchema,
  AcsMessageSchema,
  AcsReadReceiptPageSchema,
  AcsReadReceiptRequestSchema,
  AcsSendMessageRequestSchema,
  AcsSendMessageResultSchema,
  AcsSkipListQuerySchema,
  AcsThreadParamsSchema,
  AcsTimeListQuerySchema,
  AcsTypingRequestSchema,
  AcsUpdateMessageRequestSchema,
  AcsVersionQuerySchema,
} from './acs-schemas.js';
import { acsErrorResponses, chatRoute, NoContent, tags, threadParam } from './acs-route-helpers.js';

const config = chatRoute;

/** ACS messages, typing notifications and read receipts, through the message and realtime services. */
export function acsMessageRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { messages, realtime } = services;
  const cid = threadParam;
  const mid = (p: { chatMessageId: string }) => p.chatMessageId as MessageId;
  const messagesPath = '/chat/threads/:chatThreadId/messages';

  app.post(
    messagesPath,
    {
      config,
      schema: {
        tags,
        summary: 'ACS sendMessage (text or sanitised HTML, sender display name, metadata)',
        params: AcsThreadParamsSchema,
        querystring: AcsVersionQuerySchema,
        body: AcsSendMessageRequestSchema,
        response: { 201: AcsSendMessageResultSchema, ...acsErrorResponses(403, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const common = {
        content: b.content,
        // ACS sends an empty name for "none"; Parley then uses the sender's own display name.
        ...(b.senderDisplayName ? { senderDisplayName: b.senderDisplayName } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
      };
      const req: SendMessageRequest = b.type === 'html' ? { type: 'html', ...common } : { type: 'text', ...common };
      const sent = await messages.send(request.auth.actor, cid(request.params), req);
      return reply.status(201).send({ id: sent.message.id });
    },
  );

  app.get(
    messagesPath,
    {
      config,
      schema: {
        tags,
        summary: 'ACS listMessages: newest first, startTime, maxPageSize; system messages in ACS shapes',
        params: AcsThreadParamsSchema,
        querystring: AcsTimeListQuerySchema,
        response: { 200: AcsMessagePageSchema, ...acsErrorResponses(403, 404, 413) },
      },
    },
    async (request) => {
      const q = request.query;
      const conversationId = cid(request.params);
      const page = await messages.list(request.auth.actor, conversationId, {
        ...pageQuery(q),
        ...(q.startTime !== undefined ? { startTime: q.startTime } : {}),
      });
      return acsPage(page, acsMessage, `/chat/threads/${encodeURIComponent(threadIdOf(conversationId))}/messages`, q);
    },
  );

  const messagePath = `${messagesPath}/:chatMessageId`;

  app.get(
    messagePath,
    {
      config,
      schema: {
        tags,
        summary: 'ACS getMessage',
        params: AcsMessageParamsSchema,
        querystring: AcsVersionQuerySchema,
        response: { 200: AcsMessageSchema, ...acsErrorResponses(403, 404) },
      },
    },
    async (request) => {
      const message = acsMessage(await messages.get(request.auth.actor, cid(request.params), mid(request.params)));
      if (!message) throw new ParleyError('not_found', 'This system message has no ACS form (role changes, deactivation)', 'chatMessageId');
      return message;
    },
  );

  app.patch(
    messagePath,
    {
      config,
      schema: {
        tags,
        summary: 'ACS updateMessage (author only; merge patch of content and metadata; sets editedOn and a new version)',
        params: AcsMessageParamsSchema,
        querystring: AcsVersionQuerySchema,
        body: AcsUpdateMessageRequestSchema,
        response: { 204: NoContent, ...acsErrorResponses(403, 404, 409, 413) },
      },
    },
    async (request, reply) => {
      const { content, metadata } = request.body;
      const actor = request.auth.actor;
      if (content === undefined && metadata === undefined) {
        // An empty merge patch changes nothing, but the message must still exist and be readable.
        await messages.get(actor, cid(request.params), mid(request.params));
      } else {
        await messages.edit(actor, cid(request.params), mid(request.params), {
          ...(content !== undefined ? { content } : {}),
          ...(metadata !== undefined ? { metadata } : {}),
        });
      }
      return reply.status(204).send(null);
    },
  );

  app.delete(
    messagePath,
    {
      config,
      schema: {
        tags,
        summary: 'ACS deleteMessage (a tombstone keeps its id and sequenceId)',
        params: AcsMessageParamsSchema,
        querystring: AcsVersionQuerySchema,
        response: { 204: NoContent, ...acsErrorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      await messages.delete(request.auth.actor, cid(request.params), mid(request.params));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/chat/threads/:chatThreadId/typing',
    {
      config,
      schema: {
        tags,
        summary: 'ACS sendTypingNotification (fanned out on Parley realtime, throttled per member like the native one)',
        params: AcsThreadParamsSchema,
        querystring: AcsVersionQuerySchema,
        body: AcsTypingRequestSchema,
        response: { 200: NoContent, ...acsErrorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      // A throttled notification is not an error in ACS either: the SDK throttles on its side too.
      await realtime.typing(request.auth.actor, cid(request.params));
      return reply.status(200).send(null);
    },
  );

  app.post(
    '/chat/threads/:chatThreadId/readReceipts',
    {
      config,
      schema: {
        tags,
        summary: 'ACS sendReadReceipt (read positions only move forward)',
        params: AcsThreadParamsSchema,
        querystring: AcsVersionQuerySchema,
        body: AcsReadReceiptRequestSchema,
        response: { 200: NoContent, ...acsErrorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await realtime.markRead(request.auth.actor, cid(request.params), { messageId: request.body.chatMessageId });
      return reply.status(200).send(null);
    },
  );

  app.get(
    '/chat/threads/:chatThreadId/readReceipts',
    {
      config,
      schema: {
        tags,
        summary: 'ACS listReadReceipts: one per participant, its latest read message (maxPageSize, skip)',
        params: AcsThreadParamsSchema,
        querystring: AcsSkipListQuerySchema,
        response: { 200: AcsReadReceiptPageSchema, ...acsErrorResponses(403, 404, 413) },
      },
    },
    async (request) => {
      const q = request.query;
      const conversationId = cid(request.params);
      const page = await realtime.listReceipts(request.auth.actor, conversationId, { ...pageQuery(q), ...skipQuery(q) });
      return acsPage(page, acsReadReceipt, `/chat/threads/${encodeURIComponent(threadIdOf(conversationId))}/readReceipts`, q);
    },
  );
}
