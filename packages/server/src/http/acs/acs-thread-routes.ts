import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { isParleyError, type UpdateConversationRequest } from '@parley/protocol';
import type { UserId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { idempotencyHeader } from '../route-helpers.js';
import { threadIdOf, userIdOf } from './acs-ids.js';
import { failuresAsInvalid, keepJoinable, participantSpecs, rawIdFrom } from './acs-participants.js';
import { acsPage, acsParticipant, acsThreadItem, acsThreadProperties, pageQuery, skipQuery } from './acs-render.js';
import {
  AcsAddParticipantsRequestSchema,
  AcsAddParticipantsResultSchema,
  AcsCreateThreadRequestSchema,
  AcsCreateThreadResultSchema,
  AcsIdentifierSchema,
  AcsParticipantPageSchema,
  AcsSkipListQuerySchema,
  AcsThreadPageSchema,
  AcsThreadParamsSchema,
  AcsThreadPropertiesSchema,
  AcsTimeListQuerySchema,
  AcsUpdateThreadRequestSchema,
  AcsVersionQuerySchema,
} from './acs-schemas.js';
import { acsErrorResponses, chatRoute, NoContent, tags, threadParam } from './acs-route-helpers.js';

const config = chatRoute;

/** ACS threads: a thread is a Parley conversation, its topic the title. */
export function acsThreadRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { conversations, members } = services;

  app.post(
    '/chat/threads',
    {
      config,
      schema: {
        tags,
        summary: 'ACS createChatThread: a private room; every participant given is an owner (ACS participants are peers)',
        description: 'A retry with the same `repeatability-request-id` returns the same thread.',
        querystring: AcsVersionQuerySchema,
        body: AcsCreateThreadRequestSchema,
        response: { 201: AcsCreateThreadResultSchema, ...acsErrorResponses(403, 409, 413) },
      },
    },
    async (request, reply) => {
      const actor = request.auth.actor;
      const body = request.body;
      const { specs, invalid } = await keepJoinable(services, actor, participantSpecs(body.participants ?? [], 'owner'));
      const result = await conversations.create(
        actor,
        {
          kind: 'room',
          title: body.topic,
          public: false,
          discoverable: false,
          membersCanInvite: true,
          historyVisibleToNewMembers: true,
          ...(specs.length > 0 ? { members: specs } : {}),
          ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
          ...(body.retentionPolicy !== undefined ? { retentionPolicy: body.retentionPolicy } : {}),
        },
        idempotencyHeader(request),
      );
      return reply.status(201).send({
        chatThread: acsThreadProperties(result.conversation),
        ...(invalid.length > 0 ? { invalidParticipants: invalid } : {}),
      });
    },
  );

  app.get(
    '/chat/threads',
    {
      config,
      schema: {
        tags,
        summary: 'ACS listChatThreads: the caller\'s threads, most recently active first; startTime filters by last activity',
        querystring: AcsTimeListQuerySchema,
        response: { 200: AcsThreadPageSchema, ...acsErrorResponses(413) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await conversations.list(request.auth.actor, {
        sort: 'activity',
        ...pageQuery(q),
        ...(q.startTime !== undefined ? { activeSince: q.startTime } : {}),
      });
      return acsPage(page, acsThreadItem, '/chat/threads', q);
    },
  );

  const threadPath = '/chat/threads/:chatThreadId';
  const cid = threadParam;

  app.get(
    threadPath,
    {
      config,
      schema: {
        tags,
        summary: 'ACS getProperties',
        params: AcsThreadParamsSchema,
        querystring: AcsVersionQuerySchema,
        response: { 200: AcsThreadPropertiesSchema, ...acsErrorResponses(403, 404) },
      },
    },
    async (request) => acsThreadProperties(await conversations.get(request.auth.actor, cid(request.params))),
  );

  app.patch(
    threadPath,
    {
      config,
      schema: {
        tags,
        summary: 'ACS updateTopic / updateProperties (merge patch: only the fields sent change; metadata is replaced whole)',
        params: AcsThreadParamsSchema,
        querystring: AcsVersionQuerySchema,
        body: AcsUpdateThreadRequestSchema,
        response: { 204: NoContent, ...acsErrorResponses(403, 404, 409, 413) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const patch: UpdateConversationRequest = {
        ...(body.topic !== undefined ? { title: body.topic } : {}),
        ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
        ...(body.retentionPolicy !== undefined ? { retentionPolicy: body.retentionPolicy } : {}),
      };
      await conversations.update(request.auth.actor, cid(request.params), patch);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    threadPath,
    {
      config,
      schema: {
        tags,
        summary: 'ACS deleteChatThread',
        params: AcsThreadParamsSchema,
        querystring: AcsVersionQuerySchema,
        response: { 204: NoContent, ...acsErrorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await conversations.delete(request.auth.actor, cid(request.params));
      return reply.status(204).send(null);
    },
  );

  app.get(
    `${threadPath}/participants`,
    {
      config,
      schema: {
        tags,
        summary: 'ACS listParticipants (maxPageSize, skip)',
        params: AcsThreadParamsSchema,
        querystring: AcsSkipListQuerySchema,
        response: { 200: AcsParticipantPageSchema, ...acsErrorResponses(403, 404, 413) },
      },
    },
    async (request) => {
      const conversationId = cid(request.params);
      const page = await members.list(request.auth.actor, conversationId, { ...pageQuery(request.query), ...skipQuery(request.query) });
      return acsPage(page, acsParticipant, `/chat/threads/${encodeURIComponent(threadIdOf(conversationId))}/participants`, request.query);
    },
  );

  // `::` is find-my-way's literal colon: the ACS action segments are `/:add` and `/:remove` verbatim.
  app.post(
    `${threadPath}/participants/::add`,
    {
      config,
      schema: {
        tags,
        summary: 'ACS addParticipants: existing participants stay as they are; the others that fail are listed in invalidParticipants',
        params: AcsThreadParamsSchema,
        querystring: AcsVersionQuerySchema,
        body: AcsAddParticipantsRequestSchema,
        response: { 201: AcsAddParticipantsResultSchema, ...acsErrorResponses(403, 404, 409, 413) },
      },
    },
    async (request, reply) => {
      const actor = request.auth.actor;
      const conversationId = cid(request.params);
      // ACS participants are peers: in a room the caller owns, those it adds own it too.
      const conv = await conversations.get(actor, conversationId);
      const { specs, invalid } = participantSpecs(request.body.participants, conv.kind === 'room' && conv.myRole === 'owner' ? 'owner' : undefined);
      const failures = specs.length > 0 ? (await members.add(actor, conversationId, { members: specs })).failures : [];
      const all = [...invalid, ...failuresAsInvalid(failures)];
      return reply.status(201).send(all.length > 0 ? { invalidParticipants: all } : {});
    },
  );

  app.post(
    `${threadPath}/participants/::remove`,
    {
      config,
      schema: {
        tags,
        summary: 'ACS removeParticipant (oneself: leave); removing a non-participant succeeds, as in ACS',
        params: AcsThreadParamsSchema,
        querystring: AcsVersionQuerySchema,
        body: AcsIdentifierSchema,
        response: { 204: NoContent, ...acsErrorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      const conversationId = cid(request.params);
      const userId = userIdOf(rawIdFrom(request.body));
      try {
        // Still asks the service for an id that names nobody: an unknown thread or a caller who may not
        // remove anyone is an error either way.
        await members.remove(request.auth.actor, conversationId, userId ?? ('usr_' as UserId));
      } catch (err) {
        if (!(isParleyError(err) && err.code === 'not_found' && err.target === 'userId')) throw err;
      }
      return reply.status(204).send(null);
    },
  );
}
