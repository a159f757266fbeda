import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ConversationParamsSchema, EventPageSchema, ListEventsQuerySchema, type EventPage } from '@parley/protocol';
import type { ConversationId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { errorResponses } from '../route-helpers.js';

export function eventRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/conversations/:conversationId/events',
    {
      schema: {
        tags: ['events'],
        summary: 'The conversation\'s events after a seq, oldest first (what you may see of them)',
        params: ConversationParamsSchema,
        querystring: ListEventsQuerySchema,
        response: { 200: EventPageSchema, ...errorResponses('forbidden', 'not_found', 'limit_exceeded') },
      },
    },
    async (request, reply) => {
      const page = await services.events.listAfter(
        request.auth.actor,
        request.params.conversationId as ConversationId,
        request.query,
      );
      // Events are stored serialised; splice them in rather than parse and re-serialise each one.
      return reply
        .type('application/json; charset=utf-8')
        .send(`{"items":[${page.items.join(',')}],"lastSeq":${page.lastSeq},"hasMore":${page.hasMore}}` as unknown as EventPage);
    },
  );
}
