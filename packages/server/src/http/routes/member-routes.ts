import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AddMembersRequestSchema,
  AddMembersResultSchema,
  ConversationParamsSchema,
  ListMembersQuerySchema,
  MemberPageSchema,
  MemberParamsSchema,
  MemberSchema,
  UpdateMemberRequestSchema,
} from '@parley/protocol';
import type { ConversationId, UserId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { errorResponses, resolveUserId } from '../route-helpers.js';

const tags = ['members'];
const NoContent = Type.Null({ description: 'No content' });

export function memberRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { members } = services;
  const cid = (p: { conversationId: string }) => p.conversationId as ConversationId;

  app.get(
    '/v1/conversations/:conversationId/members',
    {
      schema: {
        tags,
        summary: 'List members (skip/limit with limit <= 1000, or cursor)',
        params: ConversationParamsSchema,
        querystring: ListMembersQuerySchema,
        response: { 200: MemberPageSchema, ...errorResponses('forbidden', 'not_found', 'limit_exceeded') },
      },
    },
    (request) => members.list(request.auth.actor, cid(request.params), request.query),
  );
  app.post(
    '/v1/conversations/:conversationId/members',
    {
      schema: {
        tags,
        summary: 'Add members; existing members stay as they are; failures are reported per participant',
        params: ConversationParamsSchema,
        body: AddMembersRequestSchema,
        response: { 200: AddMembersResultSchema, ...errorResponses('forbidden', 'not_found', 'conflict', 'limit_exceeded') },
      },
    },
    (request) => members.add(request.auth.actor, cid(request.params), request.body),
  );
  app.get(
    '/v1/conversations/:conversationId/members/:userId',
    {
      schema: {
        tags,
        summary: 'Get one member',
        params: MemberParamsSchema,
        response: { 200: MemberSchema, ...errorResponses('forbidden', 'not_found') },
      },
    },
    (request) => members.get(request.auth.actor, cid(request.params), resolveUserId(request, request.params.userId)),
  );
  app.patch(
    '/v1/conversations/:conversationId/members/:userId',
    {
      schema: {
        tags,
        summary: 'Promote to owner or demote to member (rooms; a room always keeps an owner)',
        params: MemberParamsSchema,
        body: UpdateMemberRequestSchema,
        response: { 200: MemberSchema, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    (request) =>
      members.setRole(request.auth.actor, cid(request.params), resolveUserId(request, request.params.userId), request.body.role),
  );
  app.delete(
    '/v1/conversations/:conversationId/members/:userId',
    {
      schema: {
        tags,
        summary: 'Remove a member (owners and admins; yourself: leave)',
        params: MemberParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    async (request, reply) => {
      await members.remove(request.auth.actor, cid(request.params), resolveUserId(request, request.params.userId) as UserId);
      return reply.status(204).send(null);
    },
  );
}
