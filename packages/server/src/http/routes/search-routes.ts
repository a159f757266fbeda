import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MessageSearchPageSchema, RoomSearchPageSchema, SearchMessagesQuerySchema, SearchRoomsQuerySchema } from '@parley/protocol';
import type { Services } from '../../services/index.js';
import { errorResponses } from '../route-helpers.js';

const tags = ['search'];

export function searchRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { search } = services;

  app.get(
    '/v1/search/rooms',
    {
      schema: {
        tags,
        summary: 'Search rooms by text (title, description, keywords) and filters; ranked; skip/limit (limit <= 100) or cursor',
        description:
          'A user finds public discoverable rooms and the rooms it is in; an admin credential finds every room. ' +
          'Without `q` it lists the rooms the filters allow, most recently active first. Query syntax: docs/search.md.',
        querystring: SearchRoomsQuerySchema,
        response: { 200: RoomSearchPageSchema, ...errorResponses('limit_exceeded') },
      },
    },
    (request) => search.rooms(request.auth.actor, request.query),
  );
  app.get(
    '/v1/search/messages',
    {
      schema: {
        tags,
        summary: 'Search the messages I may read, with highlighted snippets; filter by conversation, sender and time',
        description:
          'Only conversations the caller is a member of, messages from its share-history time on, addressed to everyone or to it, ' +
          'not deleted. Edits are searchable at once. Query syntax: docs/search.md.',
        querystring: SearchMessagesQuerySchema,
        response: { 200: MessageSearchPageSchema, ...errorResponses('forbidden', 'not_found', 'limit_exceeded') },
      },
    },
    (request) => search.messages(request.auth.actor, request.query),
  );
}
